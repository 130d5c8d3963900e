/*
 * The local cloud in small rooms (docs/local-cloud.md, "Code layout"): no import loop among the
 * modules of host/cloud/ (type-only imports count too, a loop of types is still a loop of
 * knowledge), and no file there over 300 lines. The check parses the import statements itself.
 */
import assert from "node:assert/strict";
import {existsSync, readFileSync, readdirSync, statSync} from "node:fs";
import {dirname, join, relative, resolve} from "node:path";
import {fileURLToPath} from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLOUD = join(ROOT, "host/cloud");
const MAX_LINES = 300;

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap(name => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
	});
}

/** Relative imports and re-exports of a module, resolved to files. */
export function importsOf(file: string): string[] {
	const text = readFileSync(file, "utf8");
	const found: string[] = [];
	for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) {
		const base = resolve(dirname(file), match[1]!);
		const target = [`${base}.ts`, join(base, "index.ts"), base].find(
			candidate => existsSync(candidate) && statSync(candidate).isFile(),
		);
		if (target) found.push(target);
	}
	return found;
}

/** One cycle in the graph of `files` (following imports anywhere in the repository), or undefined. */
export function findCycle(files: string[]): string[] | undefined {
	const state = new Map<string, "open" | "done">();
	const stack: string[] = [];
	const visit = (file: string): string[] | undefined => {
		if (state.get(file) === "done") return undefined;
		if (state.get(file) === "open") return [...stack.slice(stack.indexOf(file)), file];
		state.set(file, "open");
		stack.push(file);
		for (const next of importsOf(file).filter(
			target => target.startsWith(ROOT) && !target.includes("node_modules"),
		)) {
			const cycle = visit(next);
			if (cycle) return cycle;
		}
		stack.pop();
		state.set(file, "done");
		return undefined;
	};
	for (const file of files) {
		const cycle = visit(file);
		if (cycle) return cycle.map(path => relative(ROOT, path));
	}
	return undefined;
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
