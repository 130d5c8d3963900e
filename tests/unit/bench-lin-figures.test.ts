/*
 * Benchmark 9's arithmetic and parsing (bench/lin-figures.ts), on made-up measurements: no timing,
 * no SDK. The measurement itself runs only in `npm run bench -- 9` (bench/README.md).
 */
import assert from "node:assert/strict";
import {
	chipEstimate,
	cpuPerMB,
	ESP32_COREMARK,
	LIN_CEILING_BYTES_PER_SECOND,
	linDownloadRows,
	MB,
	ownShare,
	parseProcStat,
	parseSchedstat,
	parseStageLine,
	type LinDownloadFigures,
	type Transfer,
} from "../../bench/lin-figures";

const transfer = (bytes: number, cpuSeconds: number, wallSeconds: number): Transfer => ({
	bytes,
	cpuSeconds,
	wallSeconds,
});

function figures(installCpu: number, requestCpu: number): LinDownloadFigures {
	return {
		imageBytes: 2 * MB,
		https: {install: transfer(2 * MB, installCpu, 40), request: transfer(2 * MB, requestCpu, 40)},
		http: {install: transfer(2 * MB, 0.5, 41), request: transfer(2 * MB, 0.4, 40.96)},
		socket: transfer(2 * MB, 0.2, 40.96),
		stages: [
			{name: "md5", cpuSeconds: 0.004, wallSeconds: 0.004, bytes: 2 * MB},
			{name: "flash", cpuSeconds: 0.02, wallSeconds: 0.03, bytes: 2 * MB},
		],
		idleCpuPerSecond: 0.005,
		reports: 10,
		hostCoremark: ESP32_COREMARK * 50,
	};
}

describe("benchmark 9 figures", () => {
	it("reads the CPU nanoseconds of a schedstat line and the name and parent of a /proc stat line", () => {
		assert.equal(parseSchedstat("123456789 2000 31\n"), 123456789);
		assert.throws(() => parseSchedstat(""), /unexpected schedstat/);
		assert.deepEqual(parseProcStat("4242 (mcsim) S 4200 4242 4200 0 -1"), ["mcsim", 4200]);
		assert.deepEqual(parseProcStat("7 (a (b) c) R 1 7 7 0"), ["a (b) c", 1]);
	});

	it("reads the stages probe's lines and nothing else", () => {
		assert.deepEqual(parseStageLine("probe: stage md5: cpu 0.002770 s, wall 0.003 s, 1468006 bytes"), {
			name: "md5",
			cpuSeconds: 0.00277,
			wallSeconds: 0.003,
			bytes: 1468006,
		});
		assert.equal(parseStageLine("probe: stages done"), undefined);
		assert.equal(parseStageLine("probe: first byte"), undefined);
	});

	it("gives CPU per MB in ms and the firmware's own share over the plain Request", () => {
		const f = figures(1.1, 1.0);
		assert.equal(cpuPerMB(f.https.install), 550);
		assert.ok(Math.abs(ownShare(f.https.install, f.https.request) - 0.1) < 1e-12);
		assert.equal(LIN_CEILING_BYTES_PER_SECOND, 51200);
	});

	it("says ok at 20 % over HTTPS and over above it; the HTTP share has no criterion", () => {
		const verdict = (f: LinDownloadFigures) =>
			linDownloadRows(f)
				.filter(row => row.verdict !== "-")
				.map(row => [row.benchmark.slice(0, 30), row.result, row.verdict]);
		assert.deepEqual(verdict(figures(1.2, 1.0)), [["9. lin HTTPS: the firmware's o", "20.0 % (100.0 ms)", "ok"]]);
		assert.deepEqual(verdict(figures(1.25, 1.0)), [
			["9. lin HTTPS: the firmware's o", "25.0 % (125.0 ms)", "over"],
		]);
	});

	it("puts the rest of the own share after the stages, and throughput next to the lin ceiling", () => {
		const rows = linDownloadRows(figures(1.2, 1.0));
		const rest = rows.find(row => row.benchmark.includes("the rest"))!;
		assert.equal(rest.result, "88.0 ms"); // (1.2 - 1.0) s / 2 MB = 100 ms/MB, less md5 2 ms and flash 10 ms
		assert.match(rest.benchmark, /10 status reports/);
		const socket = rows.find(row => row.benchmark.includes("plain Socket"))!;
		assert.equal(socket.result, "51.2 KB/s (100 %)");
		assert.equal(socket.criterion, "<= 51.2 KB/s (lin port)");
	});

	it("estimates the chip from the install's CPU less idle polling, scaled by CoreMark", () => {
		const chip = chipEstimate(figures(1.2, 1.0));
		// 600 ms/MB, less 0.005 CPU s/s x 40 s / 2 MB = 100 ms/MB of polling: 500 ms/MB, x 50 = 25 s/MB
		assert.ok(Math.abs(chip.hostWorkMsPerMB - 500) < 1e-9);
		assert.equal(chip.ratio, 50);
		assert.ok(Math.abs(chip.chipCpuSecondsPerMB - 25) < 1e-9);
		assert.ok(Math.abs(chip.cpuBoundBytesPerSecond - MB / 25) < 1e-6);
		assert.ok(chip.seriesBytesPerSecond < chip.cpuBoundBytesPerSecond);
		assert.ok(Math.abs(MB / chip.seriesBytesPerSecond - (25 + MB / 280_000)) < 1e-9);
	});
});
