/*
 * Citations stay inside the repository: every `§N.M` in a source or doc file names the docs/ file it
 * cites (docs/protocol.md, docs/moddable.md, docs/decisions.md, or another docs/ file; a bare §
 * continues the citation before it on the same line, and inside those three files a bare § cites
 * the file itself), and that file has the section. No file names a document outside the repository, and only the cross-check
 * module (tests/support/shared-fixtures.ts) names the folder beside it. After a merge,
 * /work/notes/cite-sweep.sh (kept outside the repository) rewrites old-style citations.
 */
import assert from "node:assert/strict";
import {existsSync, readdirSync, readFileSync} from "node:fs";
import {join, relative} from "node:path";
import {fileURLToPath} from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SKIP_DIRS = new Set(["node_modules", ".git", ".fixtures", "build", "dist", ".sim", ".flash"]);
const EXTENSIONS = /\.(ts|mts|mjs|js|c|h|md|json|sh|csv|defaults)$/;
const CITED_DOCS = ["docs/protocol.md", "docs/moddable.md", "docs/decisions.md"];
const THIS_FILE = "tests/unit/docs-citations.test.ts";
const CROSS_CHECK_MODULE = "tests/support/shared-fixtures.ts";

function files(dir = ROOT): string[] {
	const found: string[] = [];
	for (const entry of readdirSync(dir, {withFileTypes: true})) {
		if (entry.isDirectory()) {
			if (!SKIP_DIRS.has(entry.name)) found.push(...files(join(dir, entry.name)));
		} else if (EXTENSIONS.test(entry.name) && !entry.name.endsWith(".bin"))
			found.push(relative(ROOT, join(dir, entry.name)));
	}
	return found;
}

/** The section numbers a doc has: "## 5. Title" → 5, "### 5.12 Title" → 5.12, "### F4.2 Title" → F4.2. */
function sections(doc: string): Set<string> {
	const numbers = new Set<string>();
	for (const line of readFileSync(join(ROOT, doc), "utf8").split("\n")) {
		const match = /^#{2,4} (F?\d+(?:\.\d+)*)\.? /.exec(line);
		if (match) numbers.add(match[1]);
	}
	return numbers;
}

/** Every `§N.M` of a line with the doc it cites: the last `docs/<name>.md` (or `<name>.md`) before it, else `ownDoc`. */
function citations(line: string, ownDoc: string | undefined): {number: string; doc: string | undefined}[] {
	const found: {number: string; doc: string | undefined}[] = [];
	const pattern = /§\s?(F?\d+(?:\.\d+)*)/g;
	for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
		const named = [...line.slice(0, match.index).matchAll(/(?:docs\/)?([\w-]+)\.md\b/g)].at(-1);
		found.push({number: match[1], doc: named ? `docs/${named[1]}.md` : ownDoc});
	}
	return found;
}

// Built from parts so that this file does not name them itself.
const OUTSIDE_DOCUMENTS = [
	"rainmaker-ota-" + "protocol",
	"moddable-" + "facts",
	"field-" + "notes",
	"shared/" + "spec",
	"shared/" + "seed",
	"shared/" + "fixtures",
];
const SIBLING_FOLDER = new RegExp("(?:\\.\\./)+" + "shared(?:/|\\b)(?![\"'])");

describe("docs citations", () => {
	const all = files();
	const known = new Map<string, Set<string>>();
	const sectionsOf = (doc: string) => {
		if (!known.has(doc)) known.set(doc, existsSync(join(ROOT, doc)) ? sections(doc) : new Set());
		return known.get(doc)!;
	};

	it("the cited docs exist and carry the section numbers of the protocol and Moddable notes", () => {
		const protocol = sectionsOf("docs/protocol.md");
		for (const number of [
			"1",
			"2.1",
			"2.3",
			"3.4",
			"4.2",
			"5.1",
			"5.5",
			"5.12",
			"5.15",
			"6.5",
			"7.1",
			"7.4",
			"8",
			"9.3",
			"10",
			"11",
			"12",
		])
			assert.ok(protocol.has(number), `docs/protocol.md has no §${number}`);
		assert.ok(!protocol.has("5.16") && !protocol.has("13"), "docs/protocol.md has no sections beyond §12");
		const moddable = sectionsOf("docs/moddable.md");
		for (const number of ["1", "2.4", "3", "4.3", "5.5", "6.2", "7", "9.3", "10", "11.8", "12", "13.6", "14", "15"])
			assert.ok(moddable.has(number), `docs/moddable.md has no §${number}`);
	});

	it("every § names a docs/ file that has the section", () => {
		const problems: string[] = [];
		for (const file of all) {
			if (file === THIS_FILE) continue;
			const own = CITED_DOCS.includes(file) ? file : undefined;
			readFileSync(join(ROOT, file), "utf8")
				.split("\n")
				.forEach((line, index) => {
					for (const {number, doc} of citations(line, own)) {
						if (doc === undefined)
							problems.push(
								`${file}:${index + 1}: §${number} does not name the doc it cites (docs/protocol.md §…, docs/moddable.md §…): ${line.trim()}`,
							);
						else if (!sectionsOf(doc).has(number))
							problems.push(`${file}:${index + 1}: ${doc} has no §${number}: ${line.trim()}`);
					}
				});
		}
		assert.deepEqual(problems, []);
	});

	it("no file cites a document outside the repository; only the cross-check module names the folder beside it", () => {
		const problems: string[] = [];
		for (const file of all) {
			if (file === THIS_FILE) continue;
			readFileSync(join(ROOT, file), "utf8")
				.split("\n")
				.forEach((line, index) => {
					for (const name of OUTSIDE_DOCUMENTS)
						if (line.includes(name) && file !== CROSS_CHECK_MODULE)
							problems.push(`${file}:${index + 1}: names ${name}: ${line.trim()}`);
					if (SIBLING_FOLDER.test(line) && file !== CROSS_CHECK_MODULE && !file.endsWith(".md"))
						problems.push(`${file}:${index + 1}: names the folder beside the repository: ${line.trim()}`);
				});
		}
		assert.deepEqual(problems, []);
	});
});
