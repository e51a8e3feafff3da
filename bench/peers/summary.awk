# SPDX-License-Identifier: Apache-2.0
# results.csv rows (tool,case,run,phase,wall_s,maxrss_kb,dockerd_rss_kb,rc,
# load1,builder_rss_kb, without the header) to the rows of run.sh's tables:
# the median per case, phase and tool of the successful builds, the ratio of
# kiln's to the best peer's, the target and whether it is met
# (kiln-uncompressed is shown, not compared).
#   mode=wall  seconds; best = fastest peer; targets: warm 0.1, cold and
#              touch 0.5 (0.25 for c-bigctx)
#   mode=rss   MiB of peak RSS (+ dockerd's); best = smallest peer; 0.2
#   mode=builder  the same with the builder's own processes' peak RSS;
#              builds without that figure (empty column) are left out
function median(v, n,    i, j, t) {
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function cell(x) {
	if (x == "") return "-"
	return mode == "wall" ? sprintf("%.2f", x) : sprintf("%.1f", x)
}
$8 == 0 && !(mode == "builder" && $10 == "") {
	if (!($2 in seen)) { seen[$2] = 1; cases[++ncases] = $2 }
	k = $2 SUBSEP $4 SUBSEP $1
	n[k]++
	val[k, n[k]] = mode == "wall" ? $5 : (mode == "builder" ? $10 : $6) / 1024 + $7 / 1024
}
END {
	split("cold warm touch", phases, " ")
	split("buildah podman buildkit", peers, " ")
	for (a = 1; a <= ncases; a++) {
		for (b = 1; b <= 3; b++) {
			c = cases[a]; ph = phases[b]
			delete med; nmed = 0
			for (t = -1; t <= 3; t++) {
				tool = t > 0 ? peers[t] : t == 0 ? "kiln" : "kiln-uncompressed"
				k = c SUBSEP ph SUBSEP tool
				if (!n[k]) continue
				delete v
				for (i = 1; i <= n[k]; i++) v[i] = val[k, i] + 0
				med[tool] = median(v, n[k]); nmed++
			}
			if (!nmed) continue
			best = ""
			for (t = 1; t <= 3; t++)
				if ((peers[t] in med) && (best == "" || med[peers[t]] < best)) best = med[peers[t]]
			if (mode == "wall")
				target = ph == "warm" ? 0.1 : (c == "c-bigctx" ? 0.25 : 0.5)
			else
				target = 0.2
			ratio = ""; met = "-"
			if (("kiln" in med) && best != "" && best > 0) {
				ratio = med["kiln"] / best
				met = ratio <= target ? "yes" : "**no**"
			}
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | <= %s | %s |\n", c, ph,
				cell(med["kiln"]), cell(med["kiln-uncompressed"]), cell(med["buildah"]), cell(med["podman"]), cell(med["buildkit"]),
				ratio == "" ? "-" : sprintf("%.2f", ratio), target, met
		}
	}
}
