/*
 * End to end, as a user sees it: the local cloud, a simulated node process (booted again by its
 * supervisor after each reset) and the approval client in the phone app's role.
 */
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {DEFAULT_USER} from "../host/cloud/defaults";
import {makeTestPki} from "../host/pki";
import {appCommand} from "../host/client/main";
import {NodeProcess} from "./support/node-process";
import {fixturePath} from "./support/ota-rig";
import {statusHistory, SUCCESSFUL_INSTALL} from "./support/status-history";

const v1 = fixturePath("synthetic/app-1.0.0.bin");
const v2 = fixturePath("synthetic/app-2.0.0.bin");
const fast = ["--fetch-delay", "0", "--request-delay", "0", "--reboot-delay", "0"];

let cloud: Cloud;
let node: NodeProcess | undefined;
let stateDir: string;
const loggedIn = new Set<string>();
beforeEach(() => {
	stateDir = mkdtempSync(join(tmpdir(), "rmx-app-"));
});
afterEach(async () => {
	await node?.stop();
	node = undefined;
	await cloud?.close();
	rmSync(stateDir, {recursive: true, force: true});
});

/** Runs the approval client; returns its exit code and printed lines. */
async function app(...argv: string[]): Promise<{code: number; lines: string[]}> {
	const lines: string[] = [];
	// The client logs in as a user does (the cloud's default user), once per test.
	if (!loggedIn.has(stateDir)) {
		const login = await appCommand(
			[
				"login",
				"--base-url",
				cloud.httpUrl,
				"--state-file",
				join(stateDir, "state.json"),
				"--user",
				DEFAULT_USER.userName,
				"--password",
				DEFAULT_USER.password,
			],
			{out: () => {}, err: line => lines.push(line)},
		);
		assert.equal(login, 0, lines.join("\n"));
		loggedIn.add(stateDir);
	}
	const code = await appCommand(
		[
			...argv,
			"--base-url",
			cloud.httpUrl,
			"--state-file",
			join(stateDir, "state.json"),
			"--poll-interval",
			"0.05",
			"--failed-grace",
			"1",
			"--timeout",
			"60",
		],
		{
			out: line => lines.push(line),
			err: line => lines.push(line),
		},
	);
	return {code, lines};
}

const history = (nodeId: string, jobId: string) => statusHistory(cloud, nodeId, jobId);

/** Asserts that `expected` appear in `lines` in this order (each a substring of a later line). */
function assertInOrder(lines: string[], expected: string[]): void {
	let at = 0;
	for (const text of expected) {
		const found = lines.findIndex((line, index) => index >= at && line.includes(text));
		assert.ok(found >= 0, `"${text}" after line ${at} in:\n${lines.join("\n")}`);
		at = found + 1;
	}
}

describe("end to end: local cloud, node process, approval client", function () {
	this.timeout(90_000);

	it("check → offer → approval through the client → download → reboot → success", async () => {
		cloud = await startCloud();
		const nodeId = "e2e-node-1";
		node = new NodeProcess(nodeId, cloud.mqttUrl, v1, [...fast, "--no-autofetch"]);
		await cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 20_000);
		const image = await cloud.addImage(new Uint8Array(readFileSync(v2)));
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId]});

		const check = await app("check", "--node", nodeId);
		assert.equal(check.code, 0, check.lines.join("\n"));
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		const shown = await app("show", "--node", nodeId);
		assert.match(
			shown.lines.join("\n"),
			new RegExp(`"job_id":"${job.id}","fw_version":"2\\.0\\.0"[^]*delayed: Waiting for Approval`),
		);

		const approve = await app("approve", "--node", nodeId);
		assert.equal(approve.code, 0, approve.lines.join("\n"));
		assertInOrder(approve.lines, [
			`approved job ${job.id}`,
			"Rebooting into new firmware (after 1 HTTPS attempt)",
			"success: OTA Upgrade finished and verified successfully",
		]);
		assert.deepEqual(history(nodeId, job.id), SUCCESSFUL_INSTALL);
		// Every status the client printed is one the node reported, in the node's order.
		const reported = history(nodeId, job.id);
		const seen = approve.lines
			.map(line => reported.findIndex(text => line.includes(text)))
			.filter(index => index >= 0);
		assert.deepEqual(
			seen,
			[...seen].sort((a, b) => a - b),
			"the client saw the statuses in order",
		);
		assert.equal(node.node.boots, 2);
		await node.waitForLine(/boot: running ota_1 \(rainmaker-ota-xs 2\.0\.0\), state pending-verify/);
		assert.equal((cloud.node(nodeId)?.config?.info as {fw_version?: string}).fw_version, "2.0.0");
		const after = await app("show", "--node", nodeId);
		assert.ok(
			after.lines.some(line => line.includes("success")),
			after.lines.join("\n"),
		);
	});

	it("a refused image (another project) is rejected, the client exits 1, the node stays on 1.0.0", async () => {
		cloud = await startCloud();
		const nodeId = "e2e-node-2";
		node = new NodeProcess(nodeId, cloud.mqttUrl, v1, fast);
		const image = await cloud.addImage(
			new Uint8Array(readFileSync(fixturePath("synthetic/app-other-project.bin"))),
		);
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId]});
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		const approve = await app("approve", "--node", nodeId);
		assert.equal(approve.code, 1);
		assertInOrder(approve.lines, [`approved job ${job.id}`, "rejected: Project Name mismatch"]);
		assert.deepEqual(history(nodeId, job.id), [
			"delayed: Waiting for Approval",
			"in-progress: Starting OTA Upgrade (HTTPS attempt 1/3)",
			"rejected: Project Name mismatch",
		]);
		assert.equal(node.node.boots, 1);
		const status = await node.command("ota status", /^last status: /);
		assert.ok(
			status.includes('last status: rejected "Project Name mismatch" (job ' + job.id + ")"),
			status.join("\n"),
		);
		assert.equal(cloud.jobState(nodeId, job.id)?.closed, true);
	});

	it("a new image that never reaches MQTT is rolled back and reported; its version is not offered again on its own", async () => {
		cloud = await startCloud();
		const nodeId = "e2e-node-3";
		node = new NodeProcess(nodeId, cloud.mqttUrl, v1, [
			...fast,
			"--rollback-wait",
			"2",
			"--unreachable-version",
			"2.0.0",
		]);
		const image = await cloud.addImage(new Uint8Array(readFileSync(v2)));
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId]});
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		const approve = await app("approve", "--node", nodeId);
		assert.equal(approve.code, 1);
		assertInOrder(approve.lines, [`approved job ${job.id}`, "rejected: Firmware rolled back"]);
		const reported = history(nodeId, job.id);
		assert.deepEqual(reported.slice(-2), [
			"in-progress: Rebooting into new firmware (after 1 HTTPS attempt)",
			"rejected: Firmware rolled back",
		]);
		assert.ok(!reported.some(text => text.startsWith("success")));
		await node.waitForLine(/Could not verify firmware even after 2 seconds since boot-up\. Rolling back\./);
		await node.waitForLine(/boot: running ota_0 \(rainmaker-ota-xs 1\.0\.0\), state valid/);
		assert.equal(node.node.boots, 3);

		// The same version in a new job: the node's own check does not offer it; a person's check does.
		const again = await cloud.createJob({imageId: image.id, nodes: [nodeId]});
		await node.command("reboot");
		await node.waitForLine(/Not offering version 2\.0\.0 \(job .*\) on the node's own check: it was rolled back/);
		assert.equal(cloud.statuses(nodeId, again.id).length, 0);
		const check = await node.command("ota check", /Checking for OTA updates\./);
		assert.ok(
			check.some(line => line.includes("Checking for OTA updates.")),
			check.join("\n"),
		);
		await cloud.waitForStatus(nodeId, again.id, "delayed", 20_000);
	});

	it("over mutual TLS and HTTPS: the node's certificate for MQTT, the cloud's CA for the download", async () => {
		const nodeId = "e2e-node-4";
		const pki = makeTestPki(join(stateDir, "pki"), nodeId);
		cloud = await startCloud({
			tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert},
			otaUrlScheme: "https",
		});
		node = new NodeProcess(nodeId, cloud.mqttsUrl!, v1, [
			...fast,
			"--ca",
			pki.paths.caCert,
			"--cert",
			pki.paths.clientCert,
			"--key",
			pki.paths.clientKey,
		]);
		const image = await cloud.addImage(new Uint8Array(readFileSync(v2)));
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId]});
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		const approve = await app("approve", "--node", nodeId);
		assert.equal(approve.code, 0, approve.lines.join("\n"));
		assert.deepEqual(history(nodeId, job.id), SUCCESSFUL_INSTALL);
		assert.match(cloud.imageUrl(image), /^https:/);
		await node.waitForLine(/mqtt: connected to mqtts:\/\//);
	});
});
