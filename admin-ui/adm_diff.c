/*
 * adm_diff - unified diff for the console's diff view.
 *
 * The configs are small (a few thousand lines at most), so a plain LCS table
 * over the part between the common prefix and suffix is enough; past
 * ADM_DIFF_MAX_CELLS the middle is shown as deleted then added, which is
 * still a correct (if not minimal) diff.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_diff.h"

#define ADM_DIFF_CONTEXT 3
#define ADM_DIFF_MAX_CELLS (4u * 1000 * 1000)

struct adm_lines {
	const char **p;		/* line starts */
	size_t *len;		/* lengths without '\n' */
	size_t n;
};

struct adm_op {
	char kind;		/* ' ', '-', '+' */
	const char *p;
	size_t len;
};

struct adm_sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void
adm_sb_add(struct adm_sbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *s;

		while (cap < b->len + n + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (s == NULL) {
			b->oom = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
adm_sb_str(struct adm_sbuf *b, const char *s)
{
	adm_sb_add(b, s, strlen(s));
}

static int
adm_split(const char *t, struct adm_lines *l)
{
	size_t cap = 16;
	const char *p = t;

	l->n = 0;
	l->p = malloc(cap * sizeof(*l->p));
	l->len = malloc(cap * sizeof(*l->len));
	if (l->p == NULL || l->len == NULL)
		return -1;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (l->n == cap) {
			const char **np;
			size_t *nlen;

			cap *= 2;
			np = realloc(l->p, cap * sizeof(*l->p));
			if (np == NULL)
				return -1;
			l->p = np;
			nlen = realloc(l->len, cap * sizeof(*l->len));
			if (nlen == NULL)
				return -1;
			l->len = nlen;
		}
		l->p[l->n] = p;
		l->len[l->n] = n;
		l->n++;
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

static int
adm_line_eq(const struct adm_lines *a, size_t i, const struct adm_lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* Builds the edit script into ops (capacity a->n + b->n). */
static size_t
adm_script(const struct adm_lines *a, const struct adm_lines *b, struct adm_op *ops)
{
	size_t pre = 0, suf = 0, n, m, i, j, k = 0;
	unsigned *t = NULL;

	while (pre < a->n && pre < b->n && adm_line_eq(a, pre, b, pre))
		pre++;
	while (suf < a->n - pre && suf < b->n - pre &&
	       adm_line_eq(a, a->n - 1 - suf, b, b->n - 1 - suf))
		suf++;
	n = a->n - pre - suf;
	m = b->n - pre - suf;
	for (i = 0; i < pre; i++)
		ops[k++] = (struct adm_op){ ' ', a->p[i], a->len[i] };
	if (n > 0 && m > 0 && (n + 1) * (m + 1) <= ADM_DIFF_MAX_CELLS)
		t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (t != NULL) {
		/* t[i][j] = LCS length of a[pre+i..] and b[pre+j..]. */
#define T(x, y) t[(x) * (m + 1) + (y)]
		for (i = n; i-- > 0;)
			for (j = m; j-- > 0;)
				T(i, j) = adm_line_eq(a, pre + i, b, pre + j) ? T(i + 1, j + 1) + 1 :
					  (T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
		i = j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && adm_line_eq(a, pre + i, b, pre + j)) {
				ops[k++] = (struct adm_op){ ' ', a->p[pre + i], a->len[pre + i] };
				i++;
				j++;
			} else if (j < m && (i == n || T(i, j + 1) > T(i + 1, j))) {
				ops[k++] = (struct adm_op){ '+', b->p[pre + j], b->len[pre + j] };
				j++;
			} else {
				ops[k++] = (struct adm_op){ '-', a->p[pre + i], a->len[pre + i] };
				i++;
			}
		}
#undef T
		free(t);
	} else {
		for (i = 0; i < n; i++)
			ops[k++] = (struct adm_op){ '-', a->p[pre + i], a->len[pre + i] };
		for (j = 0; j < m; j++)
			ops[k++] = (struct adm_op){ '+', b->p[pre + j], b->len[pre + j] };
	}
	for (i = a->n - suf; i < a->n; i++)
		ops[k++] = (struct adm_op){ ' ', a->p[i], a->len[i] };
	return k;
}

static void
adm_hunks(struct adm_sbuf *out, const struct adm_op *ops, size_t nops)
{
	size_t i = 0;

	while (i < nops) {
		size_t start, end, k, la = 0, lb = 0, sa = 1, sb = 1;
		char hdr[96];

		while (i < nops && ops[i].kind == ' ')
			i++;
		if (i == nops)
			break;
		start = i > ADM_DIFF_CONTEXT ? i - ADM_DIFF_CONTEXT : 0;
		/* Extend while the next change is within 2 * context lines. */
		end = i;
		for (k = i; k < nops; k++) {
			if (ops[k].kind != ' ')
				end = k;
			else if (k - end > 2 * ADM_DIFF_CONTEXT)
				break;
		}
		end = end + ADM_DIFF_CONTEXT + 1 < nops ? end + ADM_DIFF_CONTEXT + 1 : nops;
		for (k = 0; k < start; k++) {
			sa += ops[k].kind != '+';
			sb += ops[k].kind != '-';
		}
		for (k = start; k < end; k++) {
			la += ops[k].kind != '+';
			lb += ops[k].kind != '-';
		}
		snprintf(hdr, sizeof(hdr), "@@ -%zu,%zu +%zu,%zu @@\n",
			 la ? sa : sa - 1, la, lb ? sb : sb - 1, lb);
		adm_sb_str(out, hdr);
		for (k = start; k < end; k++) {
			adm_sb_add(out, &ops[k].kind, 1);
			adm_sb_add(out, ops[k].p, ops[k].len);
			adm_sb_add(out, "\n", 1);
		}
		i = end;
	}
}

char *
adm_diff_unified(const char *a, const char *b, const char *la, const char *lb)
{
	struct adm_lines A = { 0 }, B = { 0 };
	struct adm_sbuf out = { 0 };
	struct adm_op *ops = NULL;
	size_t nops;

	if (strcmp(a, b) == 0)
		return strdup("");
	if (adm_split(a, &A) < 0 || adm_split(b, &B) < 0)
		goto fail;
	ops = malloc((A.n + B.n + 1) * sizeof(*ops));
	if (ops == NULL)
		goto fail;
	nops = adm_script(&A, &B, ops);
	adm_sb_str(&out, "--- ");
	adm_sb_str(&out, la);
	adm_sb_str(&out, "\n+++ ");
	adm_sb_str(&out, lb);
	adm_sb_str(&out, "\n");
	adm_hunks(&out, ops, nops);
	if (out.oom)
		goto fail;
	free(ops);
	free(A.p);
	free(A.len);
	free(B.p);
	free(B.len);
	return out.s;
fail:
	free(out.s);
	free(ops);
	free(A.p);
	free(A.len);
	free(B.p);
	free(B.len);
	return NULL;
}
