/*
 * The host tools compiled to JavaScript (scripts/build-host.mjs; docs/host-tools.md, "The built
 * command"): the bin runs dist/, a source newer than the build makes the bin compile again first
 * (and say so on stderr), and the built command spawns the built boot process.
 */
import assert from "node:assert/strict";
import {execFileSync, spawn, spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, statSync, utimesSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {fixturePath} from "./support/ota-rig";
import {waitUntil} from "./support/wait";
import {startBroker} from "./support/broker";
import {COMMAND} from "./support/command";
import {bootArgs} from "../host/sim/supervisor";

const IMAGE = "synthetic/app-1.0.0.bin";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const build = (await import(new URL("../scripts/build-host.mjs", import.meta.url).href)) as {
	buildHost(): Promise<{inputs: number; ms: number}>;
	staleReason(): string | undefined;
};

describe("the built command (dist/)", function () {
	this.timeout(60_000);

	before(async () => {
		if (build.staleReason() !== undefined) await build.buildHost();
	});

	it("is current after a build: the bin starts without compiling and prints the usage", () => {
		assert.equal(build.staleReason(), undefined);
		const run = spawnSync(process.execPath, [COMMAND, "--help"], {encoding: "utf8", cwd: ROOT});
		assert.equal(run.status, 0, run.stderr);
		assert.match(run.stderr, /^usage: rainmaker-ota-xs <command> \[options\]/);
		assert.doesNotMatch(run.stderr, /compiling/);
	});

	it("records its sources relative to the repository whichever folder the bin (and so the build) runs from", () => {
		const elsewhere = mkdtempSync(join(tmpdir(), "rmx-build-cwd-"));
		try {
			execFileSync(process.execPath, [join(ROOT, "scripts/build-host.mjs")], {cwd: elsewhere, encoding: "utf8"});
			const meta = JSON.parse(readFileSync(join(ROOT, "dist/build-meta.json"), "utf8")) as {inputs: string[]};
			assert.ok(meta.inputs.includes("host/sim/fctry.ts"), meta.inputs.slice(0, 3).join(", "));
			assert.deepEqual(
				meta.inputs.filter(input => input.startsWith("..") || input.startsWith("/")),
				[],
			);
			assert.equal(build.staleReason(), undefined);
		} finally {
			rmSync(elsewhere, {recursive: true, force: true});
		}
	});

	it("a source newer than the build makes the bin compile again first, saying why on stderr", () => {
		const source = fileURLToPath(new URL("../host/sim/fctry.ts", import.meta.url));
		const {atime, mtime} = statSync(source);
		try {
			const later = new Date(Date.now() + 2000);
			utimesSync(source, later, later);
			assert.equal(build.staleReason(), "host/sim/fctry.ts changed");
			const run = spawnSync(process.execPath, [COMMAND, "--help"], {encoding: "utf8", cwd: ROOT});
			assert.equal(run.status, 0, run.stderr);
			assert.match(
				run.stderr,
				/^rainmaker-ota-xs: compiling the host tools to dist\/ \(host\/sim\/fctry\.ts changed\)…\nusage: /,
			);
		} finally {
			utimesSync(source, atime, mtime);
		}
		// The rebuild above is stamped with its start, before the future mtime was restored: current again.
		assert.equal(build.staleReason(), undefined);
	});

	it("under tsx (tests) the supervisor boots boot-main.ts; the built command boots dist/boot-main.mjs", async () => {
		assert.equal(bootArgs()[0], "--import");
		assert.match(bootArgs()[1]!, /^file:\/\/.*\/node_modules\/tsx\/dist\/loader\.mjs$/);
		assert.match(bootArgs()[2]!, /host\/sim\/boot-main\.ts$/);
		const dir = mkdtempSync(join(tmpdir(), "rmx-build-"));
		const broker = await startBroker();
		const child = spawn(
			process.execPath,
			[COMMAND, "node", "--broker", broker.url, "--flash-dir", dir, "--image", fixturePath(IMAGE)],
			{cwd: ROOT, stdio: ["pipe", "pipe", "pipe"]},
		);
		try {
			let output = "";
			child.stdout.on("data", data => (output += data));
			child.stderr.on("data", data => (output += data));
			await waitUntil(
				() => /boot: running ota_0/.test(output) || child.exitCode !== null,
				`the node's boot; got:\n${output}`,
				30_000,
			);
			assert.match(output, /boot: running ota_0/);
			const boots = execFileSync("ps", ["-o", "args=", "--ppid", String(child.pid)], {encoding: "utf8"});
			assert.match(boots, /dist\/boot-main\.mjs --broker mqtt:\/\/127\.0\.0\.1:\d+ /);
			assert.doesNotMatch(boots, /tsx/);
		} finally {
			child.stdin.end("quit\n");
			await new Promise(resolve => child.on("exit", resolve));
			rmSync(dir, {recursive: true, force: true});
			await broker.close();
		}
	});
});
