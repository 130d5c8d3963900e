/*
 * Benchmark 9's arithmetic and parsing (bench/lin-download.ts measures; this file turns the
 * measurements into rows, so a unit test can check it without the SDK): CPU per MB of the
 * firmware's install and of the SDK's plain Request, the firmware's own share with its 20 % goal,
 * where that share goes (the stages probe), wall-clock throughput next to the lin port's ceiling,
 * and the chip estimate (docs/device.md, "Download cost on the runtime").
 */
import type {BenchRow} from "./table";

/** "Per MB" is per 2^20 bytes, as in the other benchmarks. */
export const MB = 1024 * 1024;
/** The lin port's ceiling: modSocket.c reads 1024 bytes per readable socket every 20 ms. */
export const LIN_CEILING_BYTES_PER_SECOND = 1024 / 0.02;
/** The goal of issue 18: the firmware's own CPU per MB at most this fraction of the plain Request's, over HTTPS. */
export const OWN_SHARE_GOAL = 0.2;
/** ESP-IDF's own HTTPS OTA on the chip (issue 18's figure), for the estimate's "everything else". */
export const ESP_IDF_OTA_BYTES_PER_SECOND = 280_000;
/**
 * CoreMark of one ESP32 core at 240 MHz, -O3 (ochrin/coremark's published table: 494.6; ESP32-C3
 * at 160 MHz: 409.2 in Espressif's coremark component example).
 */
export const ESP32_COREMARK = 494.6;
/**
 * CoreMark of this host per CPU second: eembc/coremark built with gcc 12.2 -O2 (make PORT_DIR=linux),
 * 100,000 iterations in 2.89 s of user CPU on the bench machine (2 x AMD EPYC vCPU, shared; CPU
 * seconds rather than wall seconds because the machine is loaded, and the bench's figures are CPU
 * seconds too). RMX_HOST_COREMARK overrides it for another host.
 */
export const HOST_COREMARK = 34_600;

/** One transfer from its first byte to its end. */
export interface Transfer {
	readonly bytes: number;
	readonly cpuSeconds: number;
	readonly wallSeconds: number;
}

export interface Stage {
	readonly name: string;
	readonly cpuSeconds: number;
	readonly wallSeconds: number;
	readonly bytes: number;
}

export interface LinDownloadFigures {
	readonly imageBytes: number;
	readonly https: {readonly install: Transfer; readonly request: Transfer};
	readonly http: {readonly install: Transfer; readonly request: Transfer};
	readonly socket: Transfer;
	readonly stages: readonly Stage[];
	/** mcsim's CPU seconds per wall second with nothing to do (GLib/GTK polling), from the stages probe. */
	readonly idleCpuPerSecond: number;
	/** Status reports the firmware sent between its first byte and "download complete" (HTTPS run). */
	readonly reports: number;
	readonly hostCoremark: number;
}

/** CPU nanoseconds of one thread from /proc/<pid>/task/<tid>/schedstat ("run wait slices"). */
export function parseSchedstat(text: string): number {
	const match = /^(\d+)\s/.exec(text);
	if (!match) throw new Error(`unexpected schedstat ${JSON.stringify(text.slice(0, 40))}`);
	return Number(match[1]);
}

/** [comm, parent pid] of /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may hold spaces and parentheses). */
export function parseProcStat(text: string): [string, number] {
	const open = text.indexOf("(");
	const close = text.lastIndexOf(")");
	const fields = text.slice(close + 2).split(" ");
	if (open < 0 || close < open || fields.length < 2)
		throw new Error(`unexpected /proc stat ${JSON.stringify(text.slice(0, 40))}`);
	return [text.slice(open + 1, close), Number(fields[1])];
}

/** A stage line of the probe: "probe: stage md5: cpu 0.002770 s, wall 0.003 s, 1468006 bytes". */
export function parseStageLine(line: string): Stage | undefined {
	const match = /^probe: stage ([\w-]+): cpu ([\d.]+) s, wall ([\d.]+) s, (\d+) bytes$/.exec(line.trim());
	return match
		? {name: match[1], cpuSeconds: Number(match[2]), wallSeconds: Number(match[3]), bytes: Number(match[4])}
		: undefined;
}

/** CPU milliseconds per MB. */
export function cpuPerMB(transfer: Transfer | Stage): number {
	return (transfer.cpuSeconds * 1000) / (transfer.bytes / MB);
}

export function throughput(transfer: Transfer): number {
	return transfer.bytes / transfer.wallSeconds;
}

/** The firmware's own CPU per MB (install − plain Request) as a fraction of the Request's. */
export function ownShare(install: Transfer, request: Transfer): number {
	return (cpuPerMB(install) - cpuPerMB(request)) / cpuPerMB(request);
}

export interface ChipEstimate {
	/** Host CPU ms per MB of the install over HTTPS, less mcsim's idle polling over the transfer's wall time. */
	readonly hostWorkMsPerMB: number;
	readonly ratio: number;
	readonly chipCpuSecondsPerMB: number;
	/** Throughput if the CPU were the only limit. */
	readonly cpuBoundBytesPerSecond: number;
	/** That CPU time in series with ESP-IDF's own OTA rate (its TLS, flash writes and Wi-Fi): conservative. */
	readonly seriesBytesPerSecond: number;
}

/**
 * The chip's throughput from the host's CPU figures: the install's CPU per MB over HTTPS on this host,
 * less what mcsim spends idle (its GLib timer and GTK, absent on the chip) over the same wall time,
 * scaled by host CoreMark / ESP32 CoreMark. Assumes the work (XS bytecode, the SDK's TLS and digests
 * in C, all in software on both) scales as CoreMark does.
 */
export function chipEstimate(figures: LinDownloadFigures): ChipEstimate {
	const install = figures.https.install;
	const perMB = install.bytes / MB;
	const hostWorkMsPerMB = Math.max(
		0,
		cpuPerMB(install) - (figures.idleCpuPerSecond * install.wallSeconds * 1000) / perMB,
	);
	const ratio = figures.hostCoremark / ESP32_COREMARK;
	const chipCpuSecondsPerMB = (hostWorkMsPerMB / 1000) * ratio;
	const cpuBoundBytesPerSecond = MB / chipCpuSecondsPerMB;
	const seriesBytesPerSecond = MB / (chipCpuSecondsPerMB + MB / ESP_IDF_OTA_BYTES_PER_SECOND);
	return {hostWorkMsPerMB, ratio, chipCpuSecondsPerMB, cpuBoundBytesPerSecond, seriesBytesPerSecond};
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
/** Throughput in KB/s of 1000 bytes, as issue 18 gives the lin ceiling (51.2 KB/s) and ESP-IDF's rate. */
const kbps = (value: number) => `${(value / 1000).toFixed(1)} KB/s`;
const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

export function linDownloadRows(figures: LinDownloadFigures): BenchRow[] {
	const rows: BenchRow[] = [];
	const size = `${(figures.imageBytes / MB).toFixed(2)} MB image`;
	for (const [scheme, pair] of [
		["HTTPS", figures.https],
		["HTTP", figures.http],
	] as const) {
		const share = ownShare(pair.install, pair.request);
		rows.push({
			benchmark: `9. lin ${scheme}: firmware install, mcsim CPU per MB (first byte to "download complete"), ${size}`,
			result: ms(cpuPerMB(pair.install)),
			criterion: "-",
			verdict: "-",
		});
		rows.push({
			benchmark: `9. lin ${scheme}: the SDK's plain Request reading the same URL, CPU per MB`,
			result: ms(cpuPerMB(pair.request)),
			criterion: "-",
			verdict: "-",
		});
		rows.push({
			benchmark: `9. lin ${scheme}: the firmware's own share, (install - Request) / Request`,
			result: `${percent(share)} (${ms(cpuPerMB(pair.install) - cpuPerMB(pair.request))})`,
			criterion: scheme === "HTTPS" ? `<= ${OWN_SHARE_GOAL * 100} %` : "-",
			verdict: scheme === "HTTPS" ? (share <= OWN_SHARE_GOAL ? "ok" : "over") : "-",
		});
	}
	const httpsOwn = cpuPerMB(figures.https.install) - cpuPerMB(figures.https.request);
	let stagesTotal = 0;
	const stageNames: {[name: string]: string} = {
		md5: "MD5 of the image (device/digest.ts, crypt in C)",
		flash: "slot writes through FFI (idf/update-partition.ts, device/lin/flash.ts, otaplat_lin.c)",
		pieces: "the HTTP adapter's 1460-byte piece buffers",
	};
	for (const stage of figures.stages) {
		stagesTotal += cpuPerMB(stage);
		rows.push({
			benchmark: `9.   where it goes, stages probe: ${stageNames[stage.name] ?? stage.name}, per MB (wall ${(stage.wallSeconds / (stage.bytes / MB)).toFixed(3)} s)`,
			result: ms(cpuPerMB(stage)),
			criterion: "-",
			verdict: "-",
		});
	}
	rows.push({
		benchmark: `9.   where it goes: the rest, HTTPS own share - stages (download/engine JS per chunk, header check, ${figures.reports} status reports)`,
		result: ms(httpsOwn - stagesTotal),
		criterion: "-",
		verdict: "-",
	});
	rows.push({
		benchmark: "9. lin: mcsim idle CPU (GLib timer, GTK), per second",
		result: ms(figures.idleCpuPerSecond * 1000),
		criterion: "-",
		verdict: "-",
	});
	const ceiling = `<= ${kbps(LIN_CEILING_BYTES_PER_SECOND)} (lin port)`;
	const wall: [string, Transfer][] = [
		["firmware install, HTTPS", figures.https.install],
		["plain Request, HTTPS", figures.https.request],
		["firmware install, HTTP", figures.http.install],
		["plain Request, HTTP", figures.http.request],
		["plain Socket from a local server (the port's ceiling)", figures.socket],
	];
	for (const [name, transfer] of wall)
		rows.push({
			benchmark: `9. lin wall-clock throughput: ${name}`,
			result: `${kbps(throughput(transfer))} (${((throughput(transfer) / LIN_CEILING_BYTES_PER_SECOND) * 100).toFixed(0)} %)`,
			criterion: ceiling,
			verdict: "-",
		});
	const chip = chipEstimate(figures);
	rows.push({
		benchmark: `9. chip estimate: HTTPS install CPU on an ESP32 core (host ${ms(chip.hostWorkMsPerMB)}/MB less idle polling, x ${chip.ratio.toFixed(0)} by CoreMark ${figures.hostCoremark} / ${ESP32_COREMARK})`,
		result: `${chip.chipCpuSecondsPerMB.toFixed(2)} s/MB`,
		criterion: "-",
		verdict: "-",
	});
	rows.push({
		benchmark: "9. chip estimate: throughput if the CPU were the only limit",
		result: kbps(chip.cpuBoundBytesPerSecond),
		criterion: "-",
		verdict: "-",
	});
	rows.push({
		benchmark: `9. chip estimate: that CPU time in series with ESP-IDF's own OTA at ${kbps(ESP_IDF_OTA_BYTES_PER_SECOND)} (flash, Wi-Fi)`,
		result: kbps(chip.seriesBytesPerSecond),
		criterion: "-",
		verdict: "-",
	});
	return rows;
}
