#!/usr/bin/env bash
# Client allow and deny lists loaded from files (doc/limits.md "CIDR list
# files"): a 100,000-line deny file (comments, blank lines, CRLF, IPv4 and
# IPv6) checked and enforced, an allow file letting a client past a rule;
# a reload re-reads the files; a bad line refuses the reload with file:line
# and the old lists keep serving; through the REST API a path is stored,
# validated (422 with file:line) and applied.
. "$(dirname "$0")/lib.sh"
PA=$(free_port); PL=$(free_port)
start_backend a "$PA" || { echo "backend did not start"; exit 1; }
req() { local ip=$1; shift; curl -s -o /dev/null -w '%{http_code}' --interface "$ip" --max-time 10 "$@"; }

python3 - "$T/deny.txt" <<'PY'
import sys
with open(sys.argv[1], "w", newline="") as f:
    f.write("# a threat feed\n\n")
    for i in range(99998):
        if i % 10 == 0:
            f.write("2001:db8:%x::/48   # v6\n" % (i % 65536))
        else:
            f.write("10.%d.%d.%d/32\r\n" % (200 + i // 65536, (i // 256) % 256, i % 256))
    f.write("\t127.0.0.66/32 # the test's denied client\n127.0.0.80/29\n")
PY
printf '# partners\n127.0.0.77\n' >"$T/allow.txt"
cat >"$T/c.json" <<JSON
{"version": 1,
 "listeners": [{"name": "web", "address": "127.0.0.1", "port": $PL}],
 "pools": [{"name": "a", "members": [{"address": "127.0.0.1", "port": $PA}]}],
 "routes": [{"name": "main", "listener": "web", "pool": "a"}],
 "rate_rules": {"deny_cidr_files": ["$T/deny.txt"], "allow_cidr_files": ["$T/allow.txt"],
                "deny_cidrs": ["192.0.2.0/24"],
                "rules": [{"name": "one", "match": {"path": "/one"}, "limit": {"requests": 1, "period_s": 60}}]}}
JSON
eq "the deny file has 100,002 lines" 100002 "$(wc -l <"$T/deny.txt")"
t0=$(date +%s%N)
ok "tandemctl check accepts the 100,000-entry file" -- "$B/daemon/tandemctl" check "$T/c.json"
echo "# check with the 100,000-line file: $((($(date +%s%N) - t0) / 1000000)) ms"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
U="http://127.0.0.1:$PL"
eq "a client in the file: 403" 403 "$(req 127.0.0.66 "$U/")"
eq "a client in a /29 of the file: 403" 403 "$(req 127.0.0.84 "$U/")"
eq "a client outside: 200" 200 "$(req 127.0.0.1 "$U/")"
eq "the rule admits one /one" 200 "$(req 127.0.0.77 "$U/one")"
eq "an allow-file client passes the rule" 200 "$(req 127.0.0.77 "$U/one")"
eq "others meet the rule" "200 429" "$(req 127.0.0.2 "$U/one") $(req 127.0.0.2 "$U/one")"

# a reload re-reads the files
echo "127.0.0.67" >>"$T/deny.txt"
ok "reload" -- ctl reload
eq "a line added to the file is enforced after reload" 403 "$(req 127.0.0.67 "$U/")"
# a bad line refuses the whole reload, naming file and line
n=$(($(wc -l <"$T/deny.txt") + 1))
echo "10.1.2.3/8   # host bits set" >>"$T/deny.txt"
echo "not-an-address" >>"$T/deny.txt"
out=$(ctl reload 2>&1)
ok "a bad line refuses the reload" -- test $? -ne 0 -o -n "$(grep -i error <<<"$out")"
ok "... with file:line of the first bad line and the count" -- \
	grep -q "deny_cidr_files\[0\].*deny.txt:$n: .*10.1.2.3/8.*(2 bad lines in all)" <<<"$out"
eq "... and the old lists keep serving" "403 403 200" \
	"$(req 127.0.0.66 "$U/") $(req 127.0.0.67 "$U/") $(req 127.0.0.1 "$U/")"
out=$("$B/daemon/tandemctl" check "$T/c.json" 2>&1)
ok "tandemctl check says the same" -- grep -q "deny.txt:$n:" <<<"$out"
jq --arg f "$T/missing.txt" '.rate_rules.allow_cidr_files = [$f]' "$T/c.json" >"$T/c2.json"
out=$("$B/daemon/tandemctl" check "$T/c2.json" 2>&1)
ok "a missing file is named" -- grep -q "allow_cidr_files\[0\].*missing.txt: cannot open" <<<"$out"
jq '.rate_rules.allow_cidr_files = ["relative.txt"]' "$T/c.json" >"$T/c2.json"
out=$("$B/daemon/tandemctl" check "$T/c2.json" 2>&1)
ok "a relative path is refused" -- grep -q "allow_cidr_files\[0\].*absolute" <<<"$out"
cleanup

# ---- through the REST API: the path is part of the section ----
PA=$(free_port)	# cleanup stopped the backend too
start_backend a "$PA" || finish
head -n -2 "$T/deny.txt" >"$T/deny2.txt"
echo "127.0.0.68" >>"$T/deny2.txt"
write_config "$T/base.json" 1 "$PL" "$PA"
rm -f "$T/tandemd.sock"
start_stack "$T/base.json" || finish
printf 'x\n127.0.0.9\n' >"$T/bad.txt"
api PUT /rate-rules "{\"deny_cidr_files\": [\"$T/bad.txt\"]}"
eq "API: a file with a bad line: 422" 422 "$STATUS"
eq "... on the field" "rate_rules/deny_cidr_files[0]" "$(jq -r .error.field <<<"$BODY")"
ok "... naming file:line" -- grep -q 'bad.txt:1: ' <<<"$(jq -r .error.message <<<"$BODY")"
api PUT /rate-rules "{\"deny_cidr_files\": [\"$T/deny2.txt\"]}"
eq "API: PUT the path: 200" 200 "$STATUS"
api GET /rate-rules
eq "... read back" "[\"$T/deny2.txt\"]" "$(jq -c .deny_cidr_files <<<"$BODY")"
api POST /apply '{}'
eq "apply: 200" 200 "$STATUS"
wait_port "$PL"
eq "applied: the file's client gets 403" 403 "$(req 127.0.0.68 "$U/")"
eq "applied: others 200" 200 "$(req 127.0.0.1 "$U/")"
finish
