/*
 * Benchmark 9 (issue 18): the cost of a download on the Moddable runtime, on the SDK's `lin` port
 * in mcsim. In one run, under /tmp/moddable.lock (shared build directory, fixed MQTT port):
 * - builds the firmware (as `lin demo` does, with allowHttp) and the probe app (bench/lin/probe:
 *   the firmware's manifest with a probe as the main module), each into .sim/bench-lin/;
 * - for HTTPS and for plain HTTP, against the local cloud serving a 1.4 MB image: the firmware's
 *   whole approval flow as in `lin demo`, timed from its first image byte ("New image:", logged once
 *   the 288 header bytes are in) to "download complete"; then the SDK's plain Request reading and
 *   discarding the same URL in the probe (first fragment to the end);
 * - a plain Socket reading the same number of bytes from a local TCP server (the port's ceiling);
 * - the stages probe: the firmware's own per-chunk work (MD5, slot writes through FFI, piece
 *   buffers) on the same runtime, each timed with getrusage, then mcsim idle for a few seconds.
 * CPU time is the mcsim process's (every thread: /proc/<pid>/task/<tid>/schedstat, nanoseconds),
 * read when the host sees the log line, for the firmware and the probes alike. The figures become
 * rows in bench/lin-figures.ts.
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import {createServer} from "node:net";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {performance} from "node:perf_hooks";
import {createInterface} from "node:readline";
import {fileURLToPath} from "node:url";
import {appCommand} from "../host/client/main";
import {startCloud} from "../host/cloud/cloud";
import {DEFAULT_USER} from "../host/cloud/defaults";
import {makeTestPki} from "../host/pki";
import {
	LIN_DEMO_MQTTS_PORT,
	LinError,
	mcsimCommand,
	provisionLinFlash,
	runMcconfig,
	superviseLin,
} from "../host/sim/lin";
import {buildAppImage} from "../host/tools/app-image";
import {buildFctryImage} from "../host/tools/nvs-partition";
import {
	HOST_COREMARK,
	parseProcStat,
	parseSchedstat,
	parseStageLine,
	type LinDownloadFigures,
	type Stage,
	type Transfer,
} from "./lin-figures";

const REPOSITORY = fileURLToPath(new URL("..", import.meta.url));
const LOCK = "/tmp/moddable.lock";
/** "1.4 MB": the image's payload; the image is a few hundred bytes more. */
const PAYLOAD_BYTES = Math.round(1.4 * 1024 * 1024);
const IDLE_SECONDS = 5;
const NODE_ID = "lin-node";

/** Why benchmark 9 cannot run here, or undefined. */
export function linDownloadSkipReason(): string | undefined {
	const root = process.env.MODDABLE;
	if (!root) return "MODDABLE is not set (the Moddable SDK built for Linux, docs/device.md)";
	if (
		!existsSync(join(root, "build", "bin", "lin", "release", "mcconfig")) ||
		!existsSync(join(root, "build", "bin", "lin", "release", "mcsim"))
	)
		return `no Linux tools in ${root}/build/bin/lin/release (mcconfig, mcsim)`;
	if (spawnSync("sh", ["-c", "command -v flock"], {stdio: "ignore"}).status !== 0)
		return "no flock (util-linux) to take /tmp/moddable.lock";
	return undefined;
}

/** Holds /tmp/moddable.lock until the returned function is called. */
async function holdLock(log: (line: string) => void): Promise<() => void> {
	const child = spawn("flock", [LOCK, "sh", "-c", "echo locked; exec cat >/dev/null"], {
		stdio: ["pipe", "pipe", "inherit"],
	});
	log(`9. waiting for ${LOCK}`);
	await new Promise<void>((locked, failed) => {
		child.stdout!.once("data", () => locked());
		child.once("exit", code => failed(new LinError(`flock ${LOCK} ended with ${code}`)));
	});
	return () => child.stdin!.end();
}

/** The pid of the first process named `name` below `root` (mcsim under xvfb-run). */
function descendantNamed(root: number, name: string): number | undefined {
	const parents = new Map<number, number>();
	const named: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const [comm, parent] = parseProcStat(readFileSync(`/proc/${entry}/stat`, "utf8"));
			parents.set(Number(entry), parent);
			if (comm === name) named.push(Number(entry));
		} catch {
			// the process ended while being read
		}
	}
	return named.find(pid => {
		for (let at: number | undefined = pid; at !== undefined && at > 1; at = parents.get(at)) {
			if (at === root) return true;
		}
		return false;
	});
}

/** CPU seconds of every thread of `pid`. */
function cpuSeconds(pid: number): number {
	let ns = 0;
	for (const task of readdirSync(`/proc/${pid}/task`)) {
		try {
			ns += parseSchedstat(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8"));
		} catch {
			// a thread that ended
		}
	}
	return ns / 1e9;
}

interface Mark {
	readonly wall: number;
	readonly cpu: number;
}

/** Marks (wall, mcsim CPU) of a child that runs mcsim, possibly under xvfb-run. */
class Meter {
	#child: () => ChildProcess | undefined;
	#pid: number | undefined;
	constructor(child: () => ChildProcess | undefined) {
		this.#child = child;
	}

	mark(): Mark {
		const wall = performance.now();
		const root = this.#child()?.pid;
		if (this.#pid === undefined && root !== undefined) this.#pid = descendantNamed(root, "mcsim");
		if (this.#pid === undefined) throw new LinError("cannot find the mcsim process");
		return {wall, cpu: cpuSeconds(this.#pid)};
	}
}

function transfer(bytes: number, first: Mark, done: Mark): Transfer {
	return {bytes, cpuSeconds: done.cpu - first.cpu, wallSeconds: (done.wall - first.wall) / 1000};
}

function endGroup(child: ChildProcess): void {
	if (child.pid === undefined || child.exitCode !== null) return;
	try {
		process.kill(-child.pid, "SIGTERM");
	} catch {
		child.kill("SIGTERM");
	}
}

/** Runs the probe in mcsim with `env`; `onLine` returns true when the probe is done. */
function runProbe(
	root: string,
	mc: string,
	env: {[name: string]: string},
	timeoutMs: number,
	log: (line: string) => void,
	onLine: (line: string, meter: Meter) => boolean | Promise<boolean>,
): Promise<void> {
	const command = mcsimCommand(root, mc);
	const child = spawn(command[0], command.slice(1), {
		stdio: ["ignore", "pipe", "pipe"],
		env: {...process.env, ...env},
		detached: true,
	});
	const meter = new Meter(() => child);
	return new Promise<void>((done, failed) => {
		let finished = false;
		const end = (error?: Error) => {
			if (finished) return;
			finished = true;
			clearTimeout(timer);
			endGroup(child);
			if (error) failed(error);
			else done();
		};
		const timer = setTimeout(
			() => end(new LinError(`probe ${env.RMX_PROBE_MODE} not done within ${timeoutMs / 1000} s`)),
			timeoutMs,
		);
		const lines = (line: string) => {
			if (!line.startsWith("probe:")) return;
			log(`   [probe] ${line}`);
			if (/^probe: (error|unknown)/.test(line)) return end(new LinError(`probe ${env.RMX_PROBE_MODE}: ${line}`));
			new Promise<boolean>(resolve => resolve(onLine(line, meter))).then(
				finishedNow => finishedNow && end(),
				end,
			);
		};
		createInterface({input: child.stdout!}).on("line", lines);
		createInterface({input: child.stderr!}).on("line", lines);
		child.once("exit", code => end(new LinError(`probe ${env.RMX_PROBE_MODE}: mcsim ended with ${code}`)));
	});
}

/** The first-byte-to-end transfer of a socket or request probe. */
async function transferProbe(
	root: string,
	mc: string,
	env: {[name: string]: string},
	bytes: number,
	log: (line: string) => void,
): Promise<Transfer> {
	let first: Mark | undefined;
	let result: Transfer | undefined;
	await runProbe(root, mc, env, 240_000, log, (line, meter) => {
		if (line === "probe: first byte") first = meter.mark();
		const done = /^probe: done (\d+) bytes/.exec(line);
		if (done) {
			const end = meter.mark();
			if (!first || Number(done[1]) !== bytes)
				throw new LinError(`probe ${env.RMX_PROBE_MODE} read ${done[1]} bytes, expected ${bytes}`);
			result = transfer(bytes, first, end);
			return true;
		}
		return false;
	});
	return result!;
}

async function stagesProbe(
	root: string,
	mc: string,
	flashDir: string,
	bytes: number,
	log: (line: string) => void,
): Promise<{stages: Stage[]; idleCpuPerSecond: number}> {
	const stages: Stage[] = [];
	let idleCpuPerSecond = 0;
	await runProbe(
		root,
		mc,
		{RMX_PROBE_MODE: "stages", RMX_PROBE_BYTES: String(bytes), RMX_FLASH_DIR: flashDir},
		240_000,
		log,
		async (line, meter) => {
			const stage = parseStageLine(line);
			if (stage) stages.push(stage);
			if (line !== "probe: stages done") return false;
			const start = meter.mark();
			await new Promise(resolve => setTimeout(resolve, IDLE_SECONDS * 1000));
			const end = meter.mark();
			idleCpuPerSecond = (end.cpu - start.cpu) / ((end.wall - start.wall) / 1000);
			return true;
		},
	);
	return {stages, idleCpuPerSecond};
}

/** A TCP server that sends `bytes` bytes to each client, then closes. */
async function byteServer(bytes: number): Promise<{port: number; close(): void}> {
	const body = Buffer.alloc(bytes, 0x5a);
	const server = createServer(socket => socket.end(body));
	await new Promise<void>(listening => server.listen(0, "127.0.0.1", listening));
	const address = server.address();
	return {port: typeof address === "object" && address ? address.port : 0, close: () => server.close()};
}

function derOf(pem: string): Uint8Array {
	return new Uint8Array(Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64"));
}

/**
 * mcconfig -m -p lin -t build of `manifest` into the bench's own output directory (-o
 * .sim/bench-lin/<name>, kept between runs so a rebuild is incremental): the SDK's shared build
 * directory may hold another worktree's modules. Returns a copy of the mc.so in `work`.
 */
function build(
	root: string,
	work: string,
	name: string,
	manifest: string,
	config: {[key: string]: string | number | boolean},
	log: (line: string) => void,
): string {
	const out = join(REPOSITORY, ".sim", "bench-lin", name);
	mkdirSync(out, {recursive: true});
	const args = [
		"-m",
		"-p",
		"lin",
		"-t",
		"build",
		"-o",
		out,
		manifest,
		...Object.entries(config).map(([key, value]) => `${key}=${value}`),
	];
	log(`9. mcconfig ${args.join(" ")}`);
	const result = runMcconfig(root, args, dirname(manifest));
	if (result.status !== 0)
		throw new LinError(
			`mcconfig of ${manifest} failed (exit ${result.status}):\n${`${result.stdout}${result.stderr}`.split("\n").slice(-30).join("\n")}`,
		);
	const found = spawnSync("find", [join(out, "bin"), "-name", "mc.so"], {encoding: "utf8"})
		.stdout.trim()
		.split("\n")
		.filter(Boolean);
	if (found.length !== 1)
		throw new LinError(`mcconfig of ${manifest} succeeded but left ${found.length} mc.so files in ${out}/bin`);
	const mc = join(work, `${name}.so`);
	copyFileSync(found[0], mc);
	return mc;
}

/** The firmware as `lin demo` builds it (host/sim/lin.ts buildLin's manifest: the repository's, plus the CA), with allowHttp. */
function buildFirmware(root: string, work: string, caDer: Uint8Array, log: (line: string) => void): string {
	const dir = join(work, "firmware-manifest");
	mkdirSync(dir, {recursive: true});
	writeFileSync(join(dir, "local-ca.der"), caDer);
	const manifest = join(dir, "manifest.json");
	writeFileSync(
		manifest,
		JSON.stringify({include: [join(REPOSITORY, "manifest.json")], resources: {"*": ["./local-ca"]}}, null, "\t"),
	);
	return build(
		root,
		work,
		"firmware",
		manifest,
		{
			mqttPort: LIN_DEMO_MQTTS_PORT,
			caResource: "local-ca.der",
			startupFetchDelaySeconds: 1,
			requestFetchDelaySeconds: 1,
			allowHttp: true,
		},
		log,
	);
}

/** The firmware's approval flow against `cloud`; the transfer from the first image byte to "download complete". */
async function installRun(
	root: string,
	mc: string,
	probe: string,
	work: string,
	scheme: "https" | "http",
	image: Uint8Array,
	pki: ReturnType<typeof makeTestPki>,
	log: (line: string) => void,
): Promise<{install: Transfer; request: Transfer; reports: number}> {
	const cloud = await startCloud({
		tls: {key: pki.serverKey, cert: pki.serverCert + pki.caCert, ca: pki.caCert},
		mqttsPort: LIN_DEMO_MQTTS_PORT,
		advertisedHost: "localhost",
		otaUrlScheme: scheme,
	});
	let node: ReturnType<typeof superviseLin> | undefined;
	try {
		const published = await cloud.addImage(image, `bench-2.0.0-${scheme}`);
		const url = cloud.imageUrl(published);
		log(`9. ${scheme}: the SDK's plain Request reads ${url}`);
		const probeDir = join(work, `request-${scheme}`);
		mkdirSync(probeDir, {recursive: true});
		writeFileSync(join(probeDir, "ca.der"), derOf(pki.caCert));
		const request = await transferProbe(
			root,
			probe,
			{RMX_PROBE_MODE: "request", RMX_PROBE_URL: url, RMX_FLASH_DIR: probeDir},
			image.length,
			log,
		);
		const flashDir = join(work, `flash-${scheme}`);
		provisionLinFlash(flashDir, {
			image: buildAppImage({version: "1.0.0", payloadSize: 256 * 1024}),
			fctry: buildFctryImage({
				nodeId: NODE_ID,
				mqttHost: "localhost",
				clientCert: pki.clientCert,
				clientKey: pki.clientKey,
				random: "0123456789abcdef0123456789abcdef",
			}),
		});
		const job = await cloud.createJob({imageId: published.id, nodes: [NODE_ID], name: `bench ${scheme}`});
		log(`9. ${scheme}: the firmware installs job ${job.id} (${url})`);
		let first: Mark | undefined;
		let reports = 0;
		let settle: (result: Transfer | Error) => void = () => {};
		const measured = new Promise<Transfer | Error>(resolve => (settle = resolve));
		const recent: string[] = [];
		const running = superviseLin(mcsimCommand(root, mc), flashDir, line => {
			recent.push(line);
			if (recent.length > 40) recent.shift();
			try {
				if (!first && /New image:/.test(line)) {
					first = meter.mark();
					log(`   [mcsim] ${line}`);
				} else if (first && /OTA status in-progress/.test(line)) reports++;
				if (/OTA status (failed|rejected)/.test(line))
					settle(new LinError(`the firmware's install over ${scheme} failed: ${line}`));
				if (first && /download complete/.test(line)) {
					log(`   [mcsim] ${line}`);
					settle(transfer(image.length, first, meter.mark()));
				}
			} catch (error) {
				settle(error as Error);
			}
		});
		node = running;
		const meter = new Meter(() => running.child);
		void running.stopped.then(code =>
			settle(new LinError(`mcsim ended with exit code ${code} before the download completed`)),
		);
		const offered = await Promise.race([
			cloud.waitForStatus(NODE_ID, job.id, "delayed", 180_000).then(() => undefined),
			measured,
		]);
		if (offered instanceof Error) {
			for (const line of recent) log(`   [mcsim] ${line}`);
			throw offered;
		}
		const appIo = {out: () => undefined, err: (line: string) => log(`   [app] ${line}`)};
		const state = ["--base-url", cloud.httpUrl, "--state-file", join(work, `app-state-${scheme}.json`)];
		if (
			(await appCommand(
				["login", ...state, "--user", DEFAULT_USER.userName, "--password", DEFAULT_USER.password],
				appIo,
			)) !== 0 ||
			(await appCommand(["approve", "--node", NODE_ID, ...state, "--timeout", "60"], appIo)) !== 0
		)
			throw new LinError("the approval failed");
		const timeout = setTimeout(() => settle(new LinError('no "download complete" within 300 s')), 300_000);
		const result = await measured;
		clearTimeout(timeout);
		if (result instanceof Error) {
			for (const line of recent) log(`   [mcsim] ${line}`);
			throw result;
		}
		// reports counted: the status lines between the first byte and "download complete", that one included
		return {install: result, request, reports};
	} finally {
		node?.stop();
		await node?.stopped;
		await cloud.close();
	}
}

/** Benchmark 9 (the caller checked linDownloadSkipReason). About 5 minutes with both builds. */
export async function measureLinDownload(log: (line: string) => void): Promise<LinDownloadFigures> {
	const root = process.env.MODDABLE!;
	const work = mkdtempSync(join(tmpdir(), "rmx-bench9-"));
	const release = await holdLock(log);
	try {
		// kept between runs, as the builds are: the CA is built into the firmware
		const pki = makeTestPki(join(REPOSITORY, ".sim", "bench-lin", "pki"), {nodeId: NODE_ID, days: 365});
		const firmware = buildFirmware(root, work, derOf(pki.caCert), log);
		const probe = build(root, work, "probe", join(REPOSITORY, "bench", "lin", "probe", "manifest.json"), {}, log);
		const image = buildAppImage({version: "2.0.0", payloadSize: PAYLOAD_BYTES});
		const https = await installRun(root, firmware, probe, work, "https", image, pki, log);
		const http = await installRun(root, firmware, probe, work, "http", image, pki, log);
		const server = await byteServer(image.length);
		let socket: Transfer;
		try {
			log(`9. a plain Socket reads ${image.length} bytes from 127.0.0.1:${server.port}`);
			socket = await transferProbe(
				root,
				probe,
				{RMX_PROBE_MODE: "socket", RMX_PROBE_HOST: "127.0.0.1", RMX_PROBE_PORT: String(server.port)},
				image.length,
				log,
			);
		} finally {
			server.close();
		}
		const stagesDir = join(work, "flash-stages");
		provisionLinFlash(stagesDir, {image: buildAppImage({version: "1.0.0", payloadSize: 256 * 1024})});
		log("9. the stages probe: the firmware's per-chunk work, then mcsim idle");
		const {stages, idleCpuPerSecond} = await stagesProbe(root, probe, stagesDir, image.length, log);
		const hostCoremark = Number(process.env.RMX_HOST_COREMARK) || HOST_COREMARK;
		return {
			imageBytes: image.length,
			https: {install: https.install, request: https.request},
			http: {install: http.install, request: http.request},
			socket,
			stages,
			idleCpuPerSecond,
			reports: https.reports,
			hostCoremark,
		};
	} finally {
		release();
		rmSync(work, {recursive: true, force: true});
	}
}
