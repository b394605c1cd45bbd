#!/usr/bin/env bash
# 56-split-brain.sh - the pair's config after a partition (doc/ha.md
# "Split brain"): nftables in B's namespace drops everything between the
# nodes (VRRP adverts and the consoles' sync alike, carrier up), so both
# become MASTER and both consoles take edits.
#   1. Edits on B only: when the partition heals, A (MASTER again) takes
#      B's revision; nothing is conflicted.
#   2. Edits on both sides: A has the higher priority, so A's revision wins
#      on both nodes; B's revisions made during the partition are kept in
#      B's history, marked conflicted (list, API), with their content.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ha.sh"
PAIR_NS=1
. "$(dirname "$0")/lib-pair.sh"
command -v jq >/dev/null || skip "jq is not installed"
command -v nft >/dev/null || skip "nft is not installed"

declare -A PRIO=([a]=150 [b]=100)
cut_link() {
	nsx b nft -f - <<NFT
table inet split56 {
	chain in { type filter hook input priority -10; ip saddr ${IP[a]} drop; }
	chain out { type filter hook output priority -10; ip daddr ${IP[a]} drop; }
}
NFT
}
heal_link() { nsx b nft delete table inet split56; }
# edit NODE WEIGHT COMMENT: pool weight, apply; prints the revision.
edit() {
	capi "$1" PUT /pools/app "{\"members\":[{\"address\":\"${IP[be]}\",\"port\":9001,\"weight\":$2}]}"
	[ "$STATUS" = 200 ] || { echo "PUT on $1: $STATUS $BODY" >&2; return 1; }
	capi "$1" POST /apply "{\"comment\":\"$3\"}"
	[ "$STATUS" = 200 ] || { echo "apply on $1: $STATUS $BODY" >&2; return 1; }
	jq -r .revision <<<"$BODY"
}
weight() { jq -r '.pools[0].members[0].weight' "$T/$1.json"; }

pair_nodes
ok "B runs A's revision 1" -- wait_status b '.revision == 1' 10
# B's own import is a revision 1 too: wait until the pair agrees on A's
# (B stored it), or a slow first push meets the cut below
ok "... A's, stored on B (the pair agrees on revision 1)" -- wait_api b /pair '.peer.base_revision == 1' 15
ok "in sync: B is read-only" -- wait_api b /pair '.writable == false and .peer.up' 10

# ---- 1. partition, edits on B only
ok "cut the link between the nodes" -- cut_link
ok "B becomes MASTER too (split brain)" -- wait_role b MASTER 15
eq "A stays MASTER" MASTER "$(role a)"
ok "B is writable now" -- wait_api b /pair '.writable == true' 10
R=$(edit b 5 "made on B alone")
eq "B applies revision 2" 2 "$R"
ok "A does not get it while cut" -- bash -c "sleep 2; [ \"\$(jq -r .revision '$T/a.json')\" = 1 ]"
ok "heal the link" -- heal_link
ok "A is MASTER, B BACKUP again" -- wait_role b BACKUP 15
ok "A takes B's revision 2 (only B moved on)" -- wait_status a '.revision == 2' 15
eq "... with B's weight" 5 "$(weight a)"
capi a GET /revisions
ok "nothing conflicted on A" -- jq -e 'map(select(.status == "conflicted")) | length == 0' <<<"$BODY"
ok "the pair agrees on revision 2" -- wait_api b /pair '.peer.revision == 2 and .peer.base_revision == 2' 10

# ---- 2. partition, edits on both sides
ok "cut the link again" -- cut_link
ok "B becomes MASTER" -- wait_role b MASTER 15
ok "B is writable" -- wait_api b /pair '.writable == true' 10
RA=$(edit a 11 "A during the split")
RB=$(edit b 22 "B during the split")
RB2=$(edit b 23 "B again during the split")
eq "both made revision 3 (and B also 4)" "3 3 4" "$RA $RB $RB2"
eq "A runs weight 11" 11 "$(weight a)"
eq "B runs weight 23" 23 "$(weight b)"
capi b GET /revisions/4; B4=$BODY
ok "heal the link" -- heal_link
ok "B is BACKUP again (A has the higher priority and preempts)" -- wait_role b BACKUP 15
ok "B runs A's revision 3 (higher priority wins)" -- wait_status b '.revision == 3' 15
eq "... with A's weight" 11 "$(weight b)"
eq "A still runs its revision 3" "3 11" "$(status a | jq -r .revision) $(weight a)"
capi b GET /revisions
ok "B's revisions 3 and 4 of the split are kept, marked conflicted" -- \
	jq -e '[.[] | select(.status == "conflicted" and (.reason | test("split brain"))) | .number] | sort == [3, 4]' <<<"$BODY"
ok "B's live revision 3 is A's" -- \
	jq -e '[.[] | select(.number == 3 and .status == "applied")] | length == 1' <<<"$BODY"
ID4=$(jq -r '.[] | select(.status == "conflicted" and .number == 4) | .id' <<<"$BODY")
capi b GET "/revisions/conflicts/$ID4"
eq "the conflicted revision 4 keeps its content" "23 B again during the split" \
	"$(jq -r '"\(.config.pools[0].members[0].weight) \(.comment)"' <<<"$BODY")"
ok "... and its original status" -- jq -e '.was == "applied" and .status == "conflicted"' <<<"$BODY"
eq "... the same content it had" "$(jq -S .config <<<"$B4")" "$(jq -S .config <<<"$BODY")"
capi b GET /revisions/conflicts
eq "GET /revisions/conflicts lists the two of the split (and the one from joining)" 3 "$(jq length <<<"$BODY")"
capi a GET /revisions
ok "nothing conflicted on A (it won)" -- jq -e 'map(select(.status == "conflicted")) | length == 0' <<<"$BODY"
# The console learns its node's role by polling tandemd (every 200 ms):
# wait until it says read-only before asking it to write.
ok "B's console is read-only again" -- wait_api b /pair '.writable == false' 10
capi b POST "/revisions/conflicts/$ID4/restore"
eq "restoring it on B (BACKUP) is refused: edit on the MASTER" 409 "$STATUS"

# ---- the pair goes on: the next apply on A is 4 on both
R=$(edit a 12 "after the split")
eq "A's next apply is revision 4" 4 "$R"
ok "B runs A's revision 4" -- wait_status b '.revision == 4' 10
eq "... weight 12" 12 "$(weight b)"
finish
