// SPDX-License-Identifier: Apache-2.0
// Lints every file named on the command line with one npm Dockerfile linter,
// in this one process, and prints how many findings it reported and on how
// many files the linter threw (dockerfilelint does on HEALTHCHECK CMD ...).
//   node peers.js dockerfilelint|dockerfile-utils FILE...
'use strict';
const fs = require('fs');
const tool = process.argv[2];
const files = process.argv.slice(3);
let lint;
if (tool === 'dockerfilelint') {
	const d = require('dockerfilelint');
	lint = (text) => d.run('/nonexistent', text).length;
} else if (tool === 'dockerfile-utils') {
	const u = require('dockerfile-utils');
	lint = (text) => u.validate(text).length;
} else {
	console.error('unknown tool ' + tool);
	process.exit(2);
}
let findings = 0, crashes = 0;
for (const f of files) {
	try {
		findings += lint(fs.readFileSync(f, 'utf8'));
	} catch (e) {
		crashes++;
	}
}
console.log(findings + ' findings, ' + crashes + ' files where the linter threw');
