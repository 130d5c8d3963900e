/*
 * The import graph of the repository's own TypeScript: relative imports and re-exports (type-only
 * ones too), resolved to files, and a search for a loop. Used by tests/unit/import-loops.test.ts
 * (the whole tree) and tests/unit/cloud-structure.test.ts (host/cloud/).
 */
import {existsSync, readFileSync, readdirSync, statSync} from "node:fs";
import {dirname, join, relative, resolve} from "node:path";
import {fileURLToPath} from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The .ts files (not .d.ts) under `dir`, recursively. */
export function sources(dir: string): string[] {
	return readdirSync(dir).flatMap(name => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sources(path);
		return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
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
