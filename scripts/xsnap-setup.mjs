#!/usr/bin/env node
/*
 * Builds the "device-heap" variant of @agoric/xsnap's worker for the real-XS test lane
 * (tests/xs/, bench/). Runs as this project's postinstall, after @agoric/xsnap's own install
 * script has compiled the stock worker.
 *
 * Why a variant: the stock xsnap-worker creates every machine with a 32 MB chunk heap and
 * 256K slots (hard-coded in main) and a 2 GB allocation limit, so a leak or a whole-image
 * buffer would never fail. The variant is the same XS engine and the same worker, with a small
 * patch (applied to a copy; the package in node_modules stays untouched):
 *   - XSNAP_CREATION="chunk,chunkIncrement,heap,heapIncrement,stack" (environment) sets the
 *     creation sizes, like the `creation` section of a Moddable manifest;
 *   - XSNAP_ALLOCATION_LIMIT=<bytes> (environment) sets the allocation limit at start;
 *   - globals setAllocationLimit(bytes) and memoryStats(resetPeaks) inside XS, so the lane can
 *     limit growth above the idle heap and read XS's own chunk/slot counters (current, peak).
 * When the package's own build is present its object files are reused (only the two patched
 * files recompile: a few seconds); otherwise XS is compiled in full (release only, ~1 min).
 */
import {spawnSync} from "node:child_process";
import {cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {createRequire} from "node:module";
import {cpus, type as osType} from "node:os";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
export const variantRoot = join(repoRoot, "node_modules", ".xsnap-device");
export const variantWorker = join(variantRoot, "xsnap", "build", "bin", "lin", "release", "xsnap-worker");

/** Marker that says a file already carries this patch (the script is idempotent). */
const MARK = "/* rainmaker-ota-xs device-heap patch */";

function packageDir() {
	const require = createRequire(join(repoRoot, "package.json"));
	// The package's main is src/index.js.
	return join(dirname(require.resolve("@agoric/xsnap")), "..");
}

/** Replaces `anchor` once in `text`, or throws: a silent no-op would build an unpatched worker. */
function replaceOnce(text, anchor, replacement, file) {
	const at = text.indexOf(anchor);
	if (at < 0 || text.indexOf(anchor, at + anchor.length) >= 0) {
		throw new Error(
			`xsnap-setup: anchor not found exactly once in ${file}: ${JSON.stringify(anchor.slice(0, 60))}`,
		);
	}
	return text.slice(0, at) + replacement + text.slice(at + anchor.length);
}

const platformPatch = `
${MARK}
/* XS's own memory counters, for the worker's memoryStats(): live and peak chunk bytes, live and
   peak slots, slot size, bytes taken from the system so far, and the allocation limit. */
void fxDeviceMemoryStats(txMachine* the, double* values, int resetPeaks)
{
	if (resetPeaks) {
		the->peakChunksSize = the->currentChunksSize;
		the->peakHeapCount = the->currentHeapCount;
	}
	values[0] = (double)the->currentChunksSize;
	values[1] = (double)the->peakChunksSize;
	values[2] = (double)the->currentHeapCount;
	values[3] = (double)the->peakHeapCount;
	values[4] = (double)sizeof(txSlot);
	values[5] = (double)the->allocatedSpace;
	values[6] = (double)the->allocationLimit;
	values[7] = (double)the->maximumChunksSize;
	values[8] = (double)the->maximumHeapCount;
}

void fxDeviceSetAllocationLimit(txMachine* the, double limit)
{
	the->allocationLimit = (size_t)limit;
}
`;

function patchWorker(text, file) {
	if (text.includes(MARK)) return text;
	text = replaceOnce(
		text,
		"#define mxSnapshotCallbackCount 18",
		`${MARK}
static void xs_memoryStats(xsMachine* the);
static void xs_setAllocationLimit(xsMachine* the);
extern void fxDeviceMemoryStats(xsMachine* the, double* values, int resetPeaks);
extern void fxDeviceSetAllocationLimit(xsMachine* the, double limit);
#define mxSnapshotCallbackCount 20`,
		file,
	);
	text = replaceOnce(
		text,
		"\tfx_harden, // 17\n",
		"\tfx_harden, // 17\n\txs_memoryStats, // 18\n\txs_setAllocationLimit, // 19\n",
		file,
	);
	text = replaceOnce(
		text,
		"\txsCreation* creation = &_creation;\n",
		`\txsCreation* creation = &_creation;
	{
		/* XSNAP_CREATION="chunk,chunkIncrement,heap,heapIncrement,stack": the device's creation sizes. */
		char* sizes = getenv("XSNAP_CREATION");
		if (sizes) {
			long values[5];
			int count = 0;
			char* cursor = sizes;
			while (count < 5 && *cursor) {
				char* end;
				values[count++] = strtol(cursor, &end, 10);
				if (end == cursor || (*end && *end != ',')) {
					fprintf(stderr, "XSNAP_CREATION: expected 5 comma-separated integers\\n");
					return E_BAD_USAGE;
				}
				cursor = *end ? end + 1 : end;
			}
			if (count != 5) {
				fprintf(stderr, "XSNAP_CREATION: expected 5 comma-separated integers\\n");
				return E_BAD_USAGE;
			}
			_creation.initialChunkSize = values[0];
			_creation.incrementalChunkSize = values[1];
			_creation.initialHeapCount = values[2];
			_creation.incrementalHeapCount = values[3];
			_creation.stackCount = values[4];
		}
	}
`,
		file,
	);
	text = replaceOnce(
		text,
		'\t\tmachine = xsCreateMachine(creation, "xsnap", NULL);\n\t\txsBuildAgent(machine);\n',
		`\t\tmachine = xsCreateMachine(creation, "xsnap", NULL);
		xsBuildAgent(machine);
		{
			char* limit = getenv("XSNAP_ALLOCATION_LIMIT");
			if (limit)
				fxDeviceSetAllocationLimit(machine, strtod(limit, NULL));
		}
`,
		file,
	);
	text = replaceOnce(
		text,
		"\tmodInstallTextDecoder(the);\n",
		`\txsResult = xsNewHostFunction(xs_memoryStats, 1);
	xsDefine(xsGlobal, xsID("memoryStats"), xsResult, xsDontEnum);
	xsResult = xsNewHostFunction(xs_setAllocationLimit, 1);
	xsDefine(xsGlobal, xsID("setAllocationLimit"), xsResult, xsDontEnum);

	modInstallTextDecoder(the);
`,
		file,
	);
	text += `
${MARK}
static void xs_memoryStats(xsMachine* the)
{
	static const char* names[9] = { "chunks", "chunksPeak", "slots", "slotsPeak", "slotSize", "allocated", "allocationLimit", "chunksCapacity", "slotsCapacity" };
	double values[9];
	int i;
	fxDeviceMemoryStats(the, values, (xsToInteger(xsArgc) > 0) && xsTest(xsArg(0)));
	xsResult = xsNewObject();
	for (i = 0; i < 9; i++)
		xsSet(xsResult, xsID(names[i]), xsNumber(values[i]));
}

static void xs_setAllocationLimit(xsMachine* the)
{
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("expected a byte count");
	fxDeviceSetAllocationLimit(the, xsToNumber(xsArg(0)));
}
`;
	return text;
}

function main() {
	if (osType() !== "Linux") {
		console.warn(`xsnap-setup: the real-XS lane builds on Linux only (this is ${osType()}); skipped.`);
		return;
	}
	let pkg;
	try {
		pkg = packageDir();
	} catch {
		console.warn("xsnap-setup: @agoric/xsnap is not installed (production install?); skipped.");
		return;
	}
	const version = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version;
	const stock = join(pkg, "xsnap-native", "xsnap");
	const copy = join(variantRoot, "xsnap");
	rmSync(variantRoot, {recursive: true, force: true});
	mkdirSync(variantRoot, {recursive: true});
	// preserveTimestamps: make then sees only the patched files as newer than the reused objects.
	cpSync(join(stock, "sources"), join(copy, "sources"), {recursive: true, preserveTimestamps: true});
	cpSync(join(stock, "makefiles"), join(copy, "makefiles"), {recursive: true, preserveTimestamps: true});
	const stockObjects = join(stock, "build", "tmp", "lin", "release");
	const reused = existsSync(stockObjects);
	if (reused) {
		cpSync(stockObjects, join(copy, "build", "tmp", "lin", "release"), {recursive: true, preserveTimestamps: true});
	}
	const configEnvs = [`XSNAP_VERSION=${version}`, `CC=cc "-D__has_builtin(x)=1"`];
	const configFile = join(variantRoot, "build.config.env");
	const stockConfig = join(pkg, "build.config.env");
	if (existsSync(stockConfig)) cpSync(stockConfig, configFile, {preserveTimestamps: true});
	else writeFileSync(configFile, configEnvs.concat("").join("\n"));

	const workerFile = join(copy, "sources", "xsnap-worker.c");
	writeFileSync(workerFile, patchWorker(readFileSync(workerFile, "utf8"), workerFile));
	const platformFile = join(copy, "sources", "xsnapPlatform.c");
	const platformText = readFileSync(platformFile, "utf8");
	if (!platformText.includes(MARK)) writeFileSync(platformFile, platformText + platformPatch);

	const started = Date.now();
	const jobs = Math.max(1, Math.min(2, cpus().length));
	const result = spawnSync(
		"make",
		[
			`-j${jobs}`,
			`MODDABLE=${join(pkg, "moddable")}`,
			"GOAL=release",
			...configEnvs,
			`EXTRA_DEPS=${configFile}`,
			"-f",
			"xsnap-worker.mk",
		],
		{cwd: join(copy, "makefiles", "lin"), stdio: ["ignore", "inherit", "inherit"]},
	);
	if (result.status !== 0 || !existsSync(variantWorker)) {
		throw new Error(`xsnap-setup: make failed (status ${result.status ?? result.signal})`);
	}
	console.log(
		`xsnap-setup: device-heap xsnap-worker ${version} built in ${((Date.now() - started) / 1000).toFixed(1)} s` +
			` (${reused ? "reusing the package's XS objects" : "full XS compile"}): ${variantWorker}`,
	);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	main();
}
