/*
 * Compiles the core (rainmaker/, ota/) and the XS guest with tsc (tests/xs/tsconfig.xs.json)
 * into a temporary directory, as the device build does: the module code is what tsc emits,
 * unchanged except for one thing. xsnap resolves an import specifier as a plain path, and the
 * sources use extensionless relative imports ("./model"), so each emitted relative specifier
 * that names a compiled file gets its ".js" (positions from TypeScript's own import scanner).
 */
import {existsSync, mkdtempSync, mkdirSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join, relative, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import ts from "typescript";

export const XS_TSCONFIG = fileURLToPath(new URL("../tsconfig.xs.json", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface GuestBuild {
	readonly outDir: string;
	/** Absolute path of the compiled guest entry module. */
	readonly entry: string;
	/** Relative specifiers rewritten, e.g. "ota/firmware.js: ../rainmaker/agent → ../rainmaker/agent.js". */
	readonly rewrites: readonly string[];
}

function formatDiagnostics(diagnostics: readonly ts.Diagnostic[]): string {
	return ts.formatDiagnostics(diagnostics, {
		getCanonicalFileName: name => name,
		getCurrentDirectory: () => REPO_ROOT,
		getNewLine: () => "\n",
	});
}

/** `specifier` as xsnap must see it, given the compiled file at `outFile` and the source tree. */
function resolveSpecifier(specifier: string, outFile: string, outDir: string): string {
	if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
	if (/\.[cm]?js$/.test(specifier)) return specifier;
	const sourceDir = join(REPO_ROOT, relative(outDir, dirname(outFile)));
	const target = resolve(sourceDir, specifier);
	if (existsSync(`${target}.ts`)) return `${specifier}.js`;
	if (existsSync(join(target, "index.ts"))) return `${specifier}/index.js`;
	return specifier;
}

export function rewriteSpecifiers(text: string, outFile: string, outDir: string, rewrites: string[]): string {
	const imports = ts.preProcessFile(text, true, true).importedFiles;
	let result = text;
	for (const file of [...imports].sort((a, b) => b.pos - a.pos)) {
		const resolved = resolveSpecifier(file.fileName, outFile, outDir);
		if (resolved === file.fileName) continue;
		// pos is at the opening quote of the string literal (TypeScript 5/6).
		const start = result[file.pos] === '"' || result[file.pos] === "'" ? file.pos + 1 : file.pos;
		const end = start + file.fileName.length;
		if (result.slice(start, end) !== file.fileName)
			throw new Error(`${outFile}: import scanner position mismatch for ${file.fileName}`);
		result = result.slice(0, start) + resolved + result.slice(end);
		rewrites.push(`${relative(outDir, outFile)}: ${file.fileName} → ${resolved}`);
	}
	return result;
}

let cached: GuestBuild | undefined;

/** Compiles once per process; throws with tsc's diagnostics when the code does not type-check for the device. */
export function compileGuest(): GuestBuild {
	if (cached) return cached;
	const outDir = mkdtempSync(join(tmpdir(), "rainmaker-ota-xs-guest-"));
	const parsed = ts.getParsedCommandLineOfConfigFile(
		XS_TSCONFIG,
		{outDir},
		{
			...ts.sys,
			onUnRecoverableConfigFileDiagnostic: diagnostic => {
				throw new Error(formatDiagnostics([diagnostic]));
			},
		},
	);
	if (!parsed) throw new Error(`cannot read ${XS_TSCONFIG}`);
	if (parsed.errors.length) throw new Error(formatDiagnostics(parsed.errors));
	const program = ts.createProgram({rootNames: parsed.fileNames, options: parsed.options});
	const diagnostics = ts.getPreEmitDiagnostics(program);
	if (diagnostics.length) throw new Error(`the XS build does not type-check:\n${formatDiagnostics(diagnostics)}`);
	const rewrites: string[] = [];
	const emitted = program.emit(undefined, (fileName, text) => {
		mkdirSync(dirname(fileName), {recursive: true});
		writeFileSync(fileName, fileName.endsWith(".js") ? rewriteSpecifiers(text, fileName, outDir, rewrites) : text);
	});
	if (emitted.emitSkipped || emitted.diagnostics.length)
		throw new Error(`tsc emit failed:\n${formatDiagnostics(emitted.diagnostics)}`);
	const entry = join(outDir, "tests", "xs", "guest", "main.js");
	if (!existsSync(entry)) throw new Error(`tsc did not emit ${entry}`);
	cached = {outDir, entry, rewrites};
	return cached;
}
