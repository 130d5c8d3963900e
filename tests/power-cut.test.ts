/*
 * Power cuts: a node process killed (SIGKILL, before a flash erase or write) at 20 moments spread
 * over the download and write, the boot switch, and the first boot of the new image. After each
 * cut the device boots again and must start a valid image, old or new, and run.
 */
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createInterface} from "node:readline";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {REBOOT_EXIT_CODE} from "../host/sim/boot";
import {BOOT_SCRIPT, tsxArgs} from "../host/sim/supervisor";
import {fixturePath} from "./support/ota-rig";

interface BootRun {
	code: number | null;
	signal: NodeJS.Signals | null;
	lines: string[];
	flashOperations?: number;
}

/** One boot of the node process; approves the offer when `approve`; ends at exit, or with "quit" once `until` printed. */
function runBoot(cloud: Cloud, nodeId: string, dir: string, options: {powerCutAt?: number; approve?: boolean; until?: RegExp}): Promise<BootRun> {
	const args = ["--broker", cloud.mqttUrl, "--node-id", nodeId, "--flash-dir", dir, "--image", fixturePath("synthetic/app-1.0.0.bin"),
		"--fetch-delay", "0", "--request-delay", "0", "--reboot-delay", "0", "--rollback-wait", "30",
		"--power-cut-at", String(options.powerCutAt ?? 1_000_000)];
	const child = spawn(process.execPath, [...tsxArgs(BOOT_SCRIPT), ...args], {stdio: ["pipe", "pipe", "pipe"]});
	const lines: string[] = [];
	const onLine = (line: string) => {
		lines.push(line);
		if (options.approve && / waiting for approval$/.test(line))
			child.stdin.write("ota start\n");
		if (options.until?.test(line))
			child.stdin.write("quit\n");
	};
	createInterface({input: child.stdout}).on("line", onLine);
	createInterface({input: child.stderr}).on("line", onLine);
	const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
	const started = Date.now();
	return new Promise(resolve => child.on("exit", (code, signal) => {
		clearTimeout(guard);
		if (process.env.RMX_TEST_LOG)
			process.stderr.write(`boot ${JSON.stringify(options)}: ${code ?? signal} after ${Date.now() - started} ms\n`);
		const counted = lines.map(line => /^flash operations: (\d+)$/.exec(line)).find(Boolean);
		resolve({code, signal, lines, flashOperations: counted ? Number(counted[1]) : undefined});
	}));
}

function bootedVersion(run: BootRun): string | undefined {
	for (const line of run.lines) {
		const match = /boot: running ota_\d \(rainmaker-ota-xs ([^)]+)\), state (\S+)/.exec(line);
		if (match)
			return match[1];
	}
	return undefined;
}

describe("power cuts during the update and the first boot", function () {
	this.timeout(300_000);
	let cloud: Cloud;
	let imageId: string;
	let nodes = 0;
	const dirs: string[] = [];
	before(async () => {
		cloud = await startCloud();
		imageId = (await cloud.addImage(new Uint8Array(readFileSync(fixturePath("synthetic/app-2.0.0.bin"))))).id;
	});
	/** A node of its own (and a job for it) per run: a job that succeeded is never served again. */
	const newNode = async () => {
		const nodeId = `cut-node-${++nodes}`;
		await cloud.createJob({imageId, nodes: [nodeId]});
		return nodeId;
	};
	after(async () => {
		await cloud.close();
		for (const dir of dirs)
			rmSync(dir, {recursive: true, force: true});
	});
	const flashDir = () => {
		const dir = mkdtempSync(join(tmpdir(), "rmx-cut-"));
		dirs.push(dir);
		return dir;
	};

	it("boots a valid image, old or new, after a cut at any of 20 moments", async () => {
		// Calibration: how many flash operations the install boot and the first boot of the new image take.
		const dir = flashDir();
		const calibrated = await newNode();
		const install = await runBoot(cloud, calibrated, dir, {approve: true});
		assert.equal(install.code, REBOOT_EXIT_CODE, install.lines.join("\n"));
		const firstBoot = await runBoot(cloud, calibrated, dir, {until: /New firmware confirmed: marked valid/});
		assert.equal(firstBoot.code, 0, firstBoot.lines.join("\n"));
		assert.equal(bootedVersion(firstBoot), "2.0.0");
		const installOps = install.flashOperations!;
		const firstBootOps = firstBoot.flashOperations!;
		if (process.env.RMX_TEST_LOG)
			process.stderr.write(`calibration: install ${installOps}, first boot ${firstBootOps}\n`);
		assert.ok(installOps > 20 && firstBootOps >= 4, `install ${installOps}, first boot ${firstBootOps} flash operations`);

		// 16 moments across provisioning, download, writes and the switch; 4 in the first boot (the
		// bootloader's PENDING_VERIFY write and the confirmation).
		const installMoments = Array.from({length: 16}, (_, i) => 1 + Math.round((i * (installOps - 1)) / 15));
		const moments: [string, number][] = [
			...installMoments.map((n): [string, number] => ["install", n]),
			...[1, 2, 3, 4].map((n): [string, number] => ["first boot", Math.min(n, firstBootOps)]),
		];
		const outcomes: string[] = [];
		for (const [phase, n] of moments) {
			const dir = flashDir();
			const nodeId = await newNode();
			if (phase === "install") {
				const cut = await runBoot(cloud, nodeId, dir, {approve: true, powerCutAt: n});
				assert.equal(cut.signal, "SIGKILL", `install cut at ${n}: the process ended ${cut.code}\n${cut.lines.join("\n")}`);
			}
			else {
				const before = await runBoot(cloud, nodeId, dir, {approve: true});
				assert.equal(before.code, REBOOT_EXIT_CODE);
				const cut = await runBoot(cloud, nodeId, dir, {powerCutAt: n});
				assert.equal(cut.signal, "SIGKILL", `first-boot cut at ${n}: ${cut.code}\n${cut.lines.join("\n")}`);
			}
			// Power back on: the bootloader must find a valid image and the firmware must reach the cloud.
			const after = await runBoot(cloud, nodeId, dir, {until: new RegExp(`rainmaker: node ${nodeId} started`)});
			assert.equal(after.code, 0, `after the ${phase} cut at ${n}:\n${after.lines.join("\n")}`);
			const version = bootedVersion(after);
			assert.ok(version === "1.0.0" || version === "2.0.0", `booted ${version}`);
			outcomes.push(`${phase} ${n}: ${version}`);
			if (process.env.RMX_TEST_LOG)
				process.stderr.write(`${outcomes.at(-1)}\n`);
		}
		assert.equal(outcomes.length, 20);
		// Cuts early in the install leave 1.0.0, cuts after the switch 2.0.0: both must occur.
		assert.ok(outcomes.some(o => o.endsWith("1.0.0")) && outcomes.some(o => o.endsWith("2.0.0")), outcomes.join("\n"));
	});
});
