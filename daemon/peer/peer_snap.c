/*
 * peer_snap - the limiter's state on disk, so that counters and bans
 * survive a restart of both nodes (doc/ha.md "State file").
 *
 * The file is one JSON object:
 *   {"format": "tandem-limiter-state", "version": 1, "written_ms": ...,
 *    "records": [...], "sum": "<16 hex digits>"}
 * records are the peer link's own records (lim: a table's full export,
 * ban: address and expiry), so loading is applying them as a full batch
 * from the peer; sum is SipHash over the compact, key-sorted text of the
 * object without "sum", so any flipped byte (also inside an address, which has no
 * checksum of its own) refuses the whole file. No ticket keys: secrets stay
 * off the disk (the peer hands its ring over; alone, a node makes a new
 * one and clients do one full handshake).
 *
 * Written to PATH.tmp, fsync'ed, renamed over PATH, directory fsync'ed: a
 * crash leaves the old file or the new one, never half of one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lim_counter.h"
#include "log.h"
#include "peer.h"
#include "peer_sync.h"

#define PEER_SNAP_FORMAT "tandem-limiter-state"
#define PEER_SNAP_VERSION 1

/* SipHash of doc's canonical text without its "sum", as 16 hex digits. */
static int
peer_snap_sum(const json_t *doc, char out[17])
{
	static const uint64_t k[2] = { 0x74616e64656d736eULL, 0x6170736869667431ULL };
	json_t *copy = json_copy((json_t *)doc);
	char *text;

	if (copy == NULL)
		return -ENOMEM;
	json_object_del(copy, "sum");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (text == NULL)
		return -ENOMEM;
	snprintf(out, 17, "%016" PRIx64, lim_siphash(k, text, strlen(text)));
	free(text);
	return 0;
}

static int
peer_snap_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
peer_snap_save(struct peer_sync *s, const char *path)
{
	char tmp[PATH_MAX], sum[17], dir[PATH_MAX], *text = NULL, *slash;
	uint64_t now = peer_wall_ms();
	json_t *recs = peer_sync_state(s, now), *doc = NULL;
	int fd = -1, rc = -ENOMEM;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		rc = -ENAMETOOLONG;
	else if (recs != NULL)
		doc = json_pack("{s:s, s:i, s:I, s:O}", "format", PEER_SNAP_FORMAT,
				"version", PEER_SNAP_VERSION, "written_ms", (json_int_t)now,
				"records", recs);
	if (doc != NULL && peer_snap_sum(doc, sum) == 0 &&
	    json_object_set_new(doc, "sum", json_string(sum)) == 0)
		text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = peer_snap_write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc < 0)
		goto out;
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out;
	}
	/* the rename itself must survive a power cut */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		fsync(fd);
	rc = 0;
	log_debug("limiter state: %zu records written to %s", json_array_size(recs), path);
out:
	if (rc < 0) {
		log_warn("limiter state: cannot write %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	free(text);
	json_decref(doc);
	json_decref(recs);
	return rc;
}

/* Checks the document; the reason in *why. */
static int
peer_snap_check(const json_t *doc, const char **why)
{
	const json_t *recs = json_object_get(doc, "records");
	const char *sum = json_string_value(json_object_get(doc, "sum"));
	char want[17];

	*why = "not a limiter state file";
	if (!json_is_object(doc) ||
	    strcmp(json_string_value(json_object_get(doc, "format")) ?: "", PEER_SNAP_FORMAT) != 0)
		return -EINVAL;
	*why = "a format version this tandemd does not read";
	if (json_integer_value(json_object_get(doc, "version")) != PEER_SNAP_VERSION)
		return -EINVAL;
	*why = "checksum mismatch (the file is corrupt)";
	if (!json_is_array(recs) || sum == NULL || peer_snap_sum(doc, want) < 0 ||
	    strcmp(want, sum) != 0)
		return -EINVAL;
	return 0;
}

int
peer_snap_load(struct peer_sync *s, const char *path, size_t *applied)
{
	json_error_t jerr;
	const char *why = NULL;
	json_t *doc, *rec;
	size_t i, refused = 0;
	int rc;

	*applied = 0;
	if (access(path, F_OK) < 0)
		return -errno;
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	rc = doc == NULL ? -EINVAL : peer_snap_check(doc, &why);
	if (rc < 0) {
		char keep[PATH_MAX];
		int kept;

		/* kept aside for a post-mortem; the next save writes a new one */
		snprintf(keep, sizeof(keep), "%s.corrupt", path);
		kept = rename(path, keep) == 0;
		log_err("limiter state: refusing %s: %s%s; starting with empty counters (%s%s)", path,
			doc == NULL ? "not JSON: " : why, doc == NULL ? jerr.text : "",
			kept ? "the file is kept as " : "cannot set it aside", kept ? keep : "");
		json_decref(doc);
		return rc;
	}
	json_array_foreach(json_object_get(doc, "records"), i, rec) {
		struct peer_rec r;
		const char *err = NULL;

		if (peer_rec_decode(rec, &r, &err) == 0 && r.kind != PEER_REC_TICKET_KEYS &&
		    r.kind != PEER_REC_HEALTH && peer_sync_apply_rec(s, &r, &err) == 0)
			(*applied)++;
		else
			refused++;	/* a rule since removed, or its period changed */
		peer_rec_clear(&r);
	}
	log_notice("limiter state: %zu records loaded from %s (written %lld s ago)%s", *applied, path,
		   (long long)(peer_wall_ms() -
			       (uint64_t)json_integer_value(json_object_get(doc, "written_ms"))) / 1000,
		   refused ? " (some skipped: rules removed or changed since)" : "");
	json_decref(doc);
	return 0;
}
