#!/usr/bin/env node
/*
 * Compiles the host tools (the `rainmaker-ota-xs` command and the simulated node's boot process)
 * from TypeScript to JavaScript once, with esbuild, into dist/ (docs/host-tools.md, "The built
 * command"). Without it every start of the command paid tsx compiling the whole host side (4-5 s).
 *
 * Run by `npm ci` / `npm install` (the prepare script) and by `npm run build`; the command's
 * launcher (host/bin/rainmaker-ota-xs.mjs) calls ensureBuilt() on every start, which rebuilds
 * when a source the last build read is newer than it (a few hundred ms), so an edited tree never
 * runs stale JavaScript.
 *
 * Each bundle keeps the relative paths its sources compute from import.meta.url (partitions.csv,
 * the web page's sources, the repository root): every `import.meta.url` in a source file becomes
 * the URL of that source file, computed relative to the bundle. Packages in node_modules stay
 * imports (not bundled).
 */
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from "node:fs";
import {dirname, join, relative, sep} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const distDir = join(root, "dist");
const metaFile = join(distDir, "build-meta.json");

/** Bundle name -> source entry point. */
const ENTRIES = {
	"rainmaker-ota-xs": "host/bin/rainmaker-ota-xs.ts",
	"boot-main": "host/sim/boot-main.ts",
};

/** The built command's entry (dist/rainmaker-ota-xs.mjs). */
export const commandBundle = join(distDir, "rainmaker-ota-xs.mjs");

/** Rewrites `import.meta.url` in each source file to that file's own URL, relative to the bundle in dist/. */
const sourceUrlPlugin = {
	name: "source-import-meta-url",
	setup(build) {
		build.onLoad({filter: /\.ts$/}, args => {
			const text = readFileSync(args.path, "utf8");
			if (!text.includes("import.meta.url")) return undefined;
			const fromDist = relative(distDir, args.path).split(sep).join("/");
			return {
				contents: text.replaceAll(
					"import.meta.url",
					`new URL(${JSON.stringify(fromDist)}, import.meta.url).href`,
				),
				loader: "ts",
			};
		});
	},
};

/** Builds both bundles; writes them through a temporary name, so a concurrent start never reads half a file. */
export async function buildHost() {
	const {build} = await import("esbuild");
	const started = Date.now();
	const result = await build({
		entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(root, path)])),
		bundle: true,
		// The metafile's input paths are relative to this folder: the repository, wherever the bin runs from.
		absWorkingDir: root,
		write: false,
		outdir: distDir,
		outExtension: {".js": ".mjs"},
		format: "esm",
		// Each sub-command is a chunk loaded when it runs (host/bin/rainmaker-ota-xs.ts).
		splitting: true,
		chunkNames: "chunk-[hash]",
		platform: "node",
		target: "node20",
		packages: "external",
		metafile: true,
		sourcemap: "linked",
		logLevel: "silent",
		// The supervisor spawns the built boot process when this is defined (host/sim/supervisor.ts).
		banner: {js: "const __RMX_BUNDLE_URL__ = import.meta.url;"},
		plugins: [sourceUrlPlugin],
	});
	mkdirSync(distDir, {recursive: true});
	for (const file of result.outputFiles) {
		const temporary = `${file.path}.${process.pid}.tmp`;
		writeFileSync(temporary, file.contents);
		renameSync(temporary, file.path);
	}
	// Chunks of earlier builds go (their names carry a content hash).
	const written = new Set(result.outputFiles.map(file => file.path));
	for (const name of readdirSync(distDir))
		if (/^chunk-.*\.mjs(\.map)?$/.test(name) && !written.has(join(distDir, name)))
			rmSync(join(distDir, name), {force: true});
	const inputs = Object.keys(result.metafile.inputs).filter(path => !path.includes("node_modules"));
	const temporary = `${metaFile}.${process.pid}.tmp`;
	writeFileSync(temporary, JSON.stringify({builtAt: started, inputs}, null, "\t") + "\n");
	renameSync(temporary, metaFile);
	return {inputs: inputs.length, ms: Date.now() - started};
}

/**
 * Why the build in dist/ cannot be used as it is ("missing", or the first source newer than it),
 * or undefined when it is current. Stats only the files the last build read.
 */
export function staleReason() {
	let meta;
	try {
		meta = JSON.parse(readFileSync(metaFile, "utf8"));
		statSync(commandBundle);
		statSync(join(distDir, "boot-main.mjs"));
	} catch {
		return "not built yet";
	}
	for (const input of meta.inputs) {
		let modified;
		try {
			modified = statSync(join(root, input)).mtimeMs;
		} catch {
			return `${input} is gone`;
		}
		if (modified >= meta.builtAt) return `${input} changed`;
	}
	return undefined;
}

/** Rebuilds when stale (saying so on stderr); returns the command bundle's path. */
export async function ensureBuilt() {
	const reason = staleReason();
	if (reason !== undefined) {
		process.stderr.write(`rainmaker-ota-xs: compiling the host tools to dist/ (${reason})…\n`);
		await buildHost();
	}
	return commandBundle;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
	const {inputs, ms} = await buildHost();
	process.stdout.write(`build-host: ${inputs} sources -> ${relative(root, distDir)}/ in ${ms} ms\n`);
}
