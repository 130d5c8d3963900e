/*
 * The local cloud in small rooms (docs/local-cloud.md, "Code layout"): no import loop among the
 * modules of host/cloud/ (type-only imports count too, a loop of types is still a loop of
 * knowledge), and no file there over 300 lines. The check parses the import statements itself.
 */
import assert from "node:assert/strict";
import {readFileSync, readdirSync, statSync} from "node:fs";
import {join, relative} from "node:path";
import {fileURLToPath} from "node:url";
import {findCycle} from "../support/import-graph";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLOUD = join(ROOT, "host/cloud");
const MAX_LINES = 300;

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap(name => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
	});
}

describe("the local cloud's module structure", () => {
	it("has no import loop in host/cloud/ (type imports included)", () => {
		const cycle = findCycle(sources(CLOUD));
		assert.equal(cycle, undefined, `import loop: ${cycle?.join(" → ")}`);
	});

	it("finds a loop when there is one (the check can fail)", () => {
		const fixture = join(ROOT, "tests/fixtures/import-loop");
		assert.deepEqual(findCycle([join(fixture, "a.ts")]), [
			"tests/fixtures/import-loop/a.ts",
			"tests/fixtures/import-loop/b.ts",
			"tests/fixtures/import-loop/a.ts",
		]);
	});

	it(`has no file over ${MAX_LINES} lines in host/cloud/`, () => {
		const long = sources(CLOUD)
			.map(file => ({file: relative(ROOT, file), lines: readFileSync(file, "utf8").split("\n").length - 1}))
			.filter(entry => entry.lines > MAX_LINES);
		assert.deepEqual(long, []);
	});
});
