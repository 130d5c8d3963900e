/*
 * The approval client (`rainmaker-ota-xs app`) against the local cloud and a scripted
 * user-approval node. The client's clock is virtual and each of its sleeps between two polls lets
 * the node publish its next status, so every status is seen exactly once, in order, without
 * waiting for real time.
 */
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {DEFAULT_USER} from "../host/cloud/defaults";
import type {CloudOtaJob} from "../host/cloud/jobs";
import {appCommand, type AppIo} from "../host/client/main";
import type {Clock} from "../host/client/follow";
import {startApprovalNode, type ApprovalNode, type ScriptedReport} from "./support/approval-node";
import {drain, fixtureImage} from "./support/cloud-fixtures";

const start = Date.parse("2026-01-01T10:00:00Z");

/** A virtual clock whose sleep advances the time and runs `onSleep` (the node's next step). */
function gatedClock(onSleep: () => Promise<void>): Clock {
	let now = start;
	return {
		now: () => now,
		async sleep(ms) {
			now += ms;
			await onSleep();
		},
	};
}

interface Run {
	code: number;
	out: string[];
	err: string[];
}

describe("approval client (app command)", function () {
	let cloud: Cloud;
	let dir: string;
	let stateFile: string;
	let node: ApprovalNode | undefined;
	let job: CloudOtaJob;
	let loggedIn = false;

	async function run(args: string[], clock?: Clock, signal?: AbortSignal): Promise<Run> {
		const out: string[] = [];
		const err: string[] = [];
		if (!loggedIn) {
			loggedIn = true;
			assert.equal(
				await appCommand(
					[
						"login",
						"--base-url",
						cloud.httpUrl,
						"--state-file",
						stateFile,
						"--user",
						DEFAULT_USER.userName,
						"--password",
						DEFAULT_USER.password,
					],
					{out: () => {}, err: line => err.push(line)},
				),
				0,
				err.join("\n"),
			);
		}
		const io: AppIo = {
			out: line => out.push(line),
			err: line => err.push(line),
			...(clock ? {clock} : {}),
			...(signal ? {signal} : {}),
		};
		const code = await appCommand([...args, "--base-url", cloud.httpUrl, "--state-file", stateFile], io);
		return {code, out, err};
	}

	/** A node with a default job for it, after "check" made it offer the update. */
	async function offered(nodeId: string, script: ScriptedReport[]): Promise<ApprovalNode> {
		node = await startApprovalNode(cloud, nodeId, script);
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		job = await cloud.createJob({imageId: image.id, nodes: [nodeId]});
		await cloud.setParams(nodeId, {OTA: {Operation: "check"}});
		await cloud.waitForStatus(nodeId, job.id, "delayed");
		return node;
	}

	/** Output lines without the time prefix. */
	function lines(result: Run): string[] {
		return result.out.map(line => line.replace(/^\d\d:\d\d:\d\d /, ""));
	}

	beforeEach(async function () {
		cloud = await startCloud();
		dir = mkdtempSync(join(tmpdir(), "client-app-"));
		stateFile = join(dir, "state.json");
		loggedIn = false;
	});

	afterEach(async function () {
		await node?.close();
		node = undefined;
		await cloud.close();
		rmSync(dir, {recursive: true, force: true});
	});

	it("approve: sends start, keeps the job id, and shows every status with progress until success (exit 0)", async function () {
		const approvalNode = await offered("app-a", [
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)"],
			["in-progress", "Downloading Firmware Image"],
			["in-progress", "Downloaded 50% Firmware Image"],
			["in-progress", "Firmware Image download complete"],
			["in-progress", "Rebooting into new firmware (after 1 HTTPS attempt)"],
			["success", "OTA Upgrade finished and verified successfully"],
		]);
		const result = await run(
			["approve", "--node", "app-a", "--poll-interval", "1"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.deepEqual(result.err, []);
		assert.equal(result.code, 0);
		assert.deepEqual(lines(result), [
			`approved job ${job.id} (firmware 2.0.0) on node app-a`,
			"delayed: Waiting for Approval  (waiting: the node fetches the job again)",
			"in-progress: Starting OTA Upgrade (HTTPS attempt 1/3)",
			"in-progress: Downloading Firmware Image  [....................] 0%",
			"in-progress: Downloaded 50% Firmware Image  [##########..........] 50%",
			"in-progress: Firmware Image download complete  [####################] 100%",
			"in-progress: Rebooting into new firmware (after 1 HTTPS attempt)",
			"success: OTA Upgrade finished and verified successfully",
			"update of node app-a to 2.0.0 succeeded",
		]);
		assert.equal(result.out[0]!.slice(0, 8), "10:00:00");
		assert.equal(approvalNode.remaining, 0);
		assert.equal(approvalNode.runningJobId, job.id);
		const saved = JSON.parse(readFileSync(stateFile, "utf8")) as {
			nodes: Record<string, {jobId: string; fwVersion: string; approvedAt: string}>;
		};
		assert.deepEqual(saved.nodes["app-a"], {
			jobId: job.id,
			fwVersion: "2.0.0",
			approvedAt: new Date(start).toISOString(),
		});
		assert.deepEqual(JSON.parse(approvalNode.node.on("params/remote").at(-1)!.payload), {
			OTA: {Operation: "start"},
		});
	});

	it("finding 6: approve --job approves only the job the user saw; another offer is refused and nothing is written", async function () {
		const approvalNode = await offered("app-j", []);
		const result = await run(
			["approve", "--node", "app-j", "--job", "job_seen_earlier"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(result.code, 1);
		assert.match(
			result.err[0] ?? "",
			new RegExp(
				`^node app-j now offers job ${job.id} \\(firmware 2\\.0\\.0\\), not job_seen_earlier; look at it with "show" and approve again$`,
			),
		);
		await drain(cloud, approvalNode.node);
		assert.deepEqual(
			approvalNode.node.on("params/remote").filter(message => message.payload.includes("start")),
			[],
		);
		const same = await run(
			["approve", "--node", "app-j", "--job", job.id, "--timeout", "1"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.deepEqual(same.err, []);
		assert.deepEqual(JSON.parse(approvalNode.node.on("params/remote").at(-1)!.payload), {
			OTA: {Operation: "start"},
		});
	});

	it("approve: a rejection ends with exit 1", async function () {
		const approvalNode = await offered("app-b", [
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)"],
			["rejected", "Project Name mismatch"],
		]);
		const result = await run(
			["approve", "--node", "app-b"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(result.code, 1);
		assert.deepEqual(lines(result).slice(-2), ["rejected: Project Name mismatch", "the node rejected the update"]);
	});

	it("approve: a failed attempt followed by a retry is not final", async function () {
		const approvalNode = await offered("app-c", [
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)"],
			["failed", "OTA Attempt 1/3 failed: Complete data was not received"],
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 2/3)"],
			["success", "HTTPS OTA Upgrade finished successfully (after 2 attempts)"],
		]);
		const result = await run(
			["approve", "--node", "app-c", "--failed-grace", "5"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(result.code, 0);
		assert.deepEqual(lines(result).slice(2, 5), [
			"in-progress: Starting OTA Upgrade (HTTPS attempt 1/3)",
			"failed: OTA Attempt 1/3 failed: Complete data was not received  (the node may retry)",
			"in-progress: Starting OTA Upgrade (HTTPS attempt 2/3)",
		]);
	});

	it("approve: failed is final when nothing newer arrives within the grace period (exit 1)", async function () {
		const approvalNode = await offered("app-d", [
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 3/3)"],
			["failed", "OTA Attempt 3/3 failed: Image validation failed"],
		]);
		let sleeps = 0;
		const clock = gatedClock(async () => {
			sleeps++;
			await approvalNode.advance();
		});
		const result = await run(["approve", "--node", "app-d", "--failed-grace", "5", "--poll-interval", "1"], clock);
		assert.equal(result.code, 1);
		assert.equal(lines(result).at(-1), "the update failed (no newer status within 5 s)");
		// Polls at t=0 (delayed), 1 (in-progress), 2 (failed), then until t=7.
		assert.equal(sleeps, 7);
		assert.equal(clock.now() - start, 7000);
	});

	it("approve: a node that lost the approval and offers the job again is told to need a new approval (exit 1)", async function () {
		const approvalNode = await offered("app-r", [
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)"],
			["delayed", "Waiting for Approval"],
		]);
		const result = await run(
			["approve", "--node", "app-r"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(result.code, 1);
		assert.deepEqual(lines(result).slice(-2), [
			"delayed: Waiting for Approval  (the node offers the update again: it needs a new approval)",
			"the node lost the approval (a restart or power cut, or it lapsed) and offers the update again: approve it again",
		]);
	});

	it("approve: gives up at the timeout (exit 1)", async function () {
		const approvalNode = await offered("app-e", []);
		const result = await run(
			["approve", "--node", "app-e", "--timeout", "10"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(result.code, 1);
		assert.equal(lines(result).at(-1), "no final state within 10 s");
	});

	it("approve: refuses when the node offers nothing, and sends no start", async function () {
		node = await startApprovalNode(cloud, "app-f", []);
		const result = await run(["approve", "--node", "app-f"]);
		assert.equal(result.code, 1);
		assert.match(result.err.join("\n"), /offers no update \(OTA\.Info is \{\}\); run "check" first/);
		await drain(cloud, node.node);
		assert.deepEqual(
			node.node.on("params/remote").map(message => JSON.parse(message.payload).OTA),
			[undefined],
		);
	});

	it("check: writes Operation check, and the node fetches", async function () {
		node = await startApprovalNode(cloud, "app-g", []);
		const fetched = cloud.waitFor("otafetch", event => event.nodeId === "app-g");
		const result = await run(["check", "--node", "app-g"]);
		assert.equal(result.code, 0);
		assert.deepEqual(result.out, ['asked node app-g to check for an update (OTA.Operation = "check")']);
		await fetched;
		assert.deepEqual(JSON.parse(node.node.on("params/remote")[0]!.payload), {OTA: {Operation: "check"}});
	});

	it("show: the offer and its status; after the approval the remembered job", async function () {
		const approvalNode = await offered("app-h", [["in-progress", "Downloaded 20% Firmware Image"]]);
		const before = await run(["show", "--node", "app-h"]);
		assert.equal(before.code, 0);
		assert.deepEqual(before.out, [
			`node app-h OTA.Info: {"job_id":"${job.id}","fw_version":"2.0.0"}`,
			`job ${job.id}: delayed: Waiting for Approval`,
		]);
		const approved = await run(
			["approve", "--node", "app-h", "--timeout", "0"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(approved.code, 1);
		await approvalNode.advance();
		const after = await run(["show", "--node", "app-h"]);
		assert.deepEqual(after.out, [
			"node app-h OTA.Info: {}",
			`job ${job.id} (remembered): in-progress: Downloaded 20% Firmware Image  [####................] 20%`,
		]);
		const elsewhere: string[] = [];
		await appCommand(
			[
				"login",
				"--base-url",
				cloud.httpUrl,
				"--state-file",
				join(dir, "other.json"),
				"--user",
				DEFAULT_USER.userName,
				"--password",
				DEFAULT_USER.password,
			],
			{out: () => {}, err: () => {}},
		);
		await appCommand(
			["show", "--node", "app-h", "--base-url", cloud.httpUrl, "--state-file", join(dir, "other.json")],
			{out: line => elsewhere.push(line), err: () => {}},
		);
		assert.deepEqual(elsewhere.slice(-1), ["no update offered and no approved job remembered"]);
	});

	it("watch: prints each change of Info and status on its own line until a final state", async function () {
		const approvalNode = await offered("app-i", [
			["in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)"],
			["success", "OTA Upgrade finished and verified successfully"],
		]);
		let step = 0;
		const clock = gatedClock(async () => {
			// First sleep: the user approves elsewhere (start written through the cloud); later: the node reports.
			if (step++ === 0) {
				const started = cloud.waitFor("otaurl", event => event.nodeId === "app-i");
				await cloud.setParams("app-i", {OTA: {Operation: "start"}});
				await started;
				await cloud.waitFor("params", event => event.nodeId === "app-i" && !event.init);
			} else {
				await approvalNode.advance();
			}
		});
		const result = await run(["watch", "--node", "app-i"], clock);
		assert.equal(result.code, 0);
		assert.deepEqual(lines(result), [
			`OTA.Info: {"job_id":"${job.id}","fw_version":"2.0.0"}`,
			`job ${job.id} delayed: Waiting for Approval`,
			"OTA.Info: {}",
			`job ${job.id} in-progress: Starting OTA Upgrade (HTTPS attempt 1/3)`,
			`job ${job.id} success: OTA Upgrade finished and verified successfully`,
		]);
	});

	it("watch: stops on the signal (Ctrl-C) with exit 130", async function () {
		node = await startApprovalNode(cloud, "app-j", []);
		const stop = new AbortController();
		const result = await run(
			["watch", "--node", "app-j"],
			gatedClock(async () => stop.abort()),
			stop.signal,
		);
		assert.equal(result.code, 130);
		assert.deepEqual(lines(result), ["OTA.Info: {}"]);
	});

	it("reports API failures clearly: unknown node, wrong token, no login, unreachable cloud", async function () {
		const unknown = await run(["show", "--node", "nobody"]);
		assert.equal(unknown.code, 1);
		assert.match(unknown.err[0]!, /GET user\/nodes\/params: HTTP 404: node nobody not found/);
		const denied = await run(["check", "--node", "x", "--token", "wrong"]);
		assert.match(denied.err[0]!, /HTTP 401: Unauthorized/);
		const fresh = join(dir, "fresh.json");
		const err: string[] = [];
		assert.equal(
			await appCommand(["show", "--node", "x", "--base-url", cloud.httpUrl, "--state-file", fresh], {
				out: () => {},
				err: line => err.push(line),
			}),
			1,
		);
		assert.match(err[0]!, /not logged in: run "rainmaker-ota-xs app login/);
		const url = cloud.httpUrl;
		await cloud.close();
		const out: string[] = [];
		err.length = 0;
		const code = await appCommand(["show", "--node", "x", "--base-url", url, "--state-file", stateFile], {
			out: line => out.push(line),
			err: line => err.push(line),
		});
		assert.equal(code, 2, "a cloud that does not answer is bad input");
		assert.deepEqual(err, [
			`rainmaker-ota-xs app show: cannot reach ${url}: ECONNREFUSED: start the cloud (rainmaker-ota-xs cloud) or pass its REST address with --base-url`,
		]);
		cloud = await startCloud();
	});

	it("refuses a damaged state file without overwriting it", async function () {
		const approvalNode = await offered("app-k", []);
		await run(["nodes"]);
		writeFileSync(stateFile, "{broken");
		const result = await run(
			["approve", "--node", "app-k"],
			gatedClock(() => approvalNode.advance()),
		);
		assert.equal(result.code, 1);
		assert.match(result.err[0]!, /is not valid JSON; fix or delete it/);
		assert.equal(readFileSync(stateFile, "utf8"), "{broken");
	});

	it("exits 2 with a usage message on bad arguments", async function () {
		for (const args of [
			[],
			["frobnicate", "--node", "x"],
			["show"],
			["show", "--node", "x", "--timeout", "soon"],
			["show", "--node", "x", "--bogus"],
			["show", "--node", "x", "--poll-interval", "0"],
			["show", "check", "--node", "x"],
		]) {
			const out: string[] = [];
			const err: string[] = [];
			const code = await appCommand([...args, "--base-url", "http://127.0.0.1:1/v1/"], {
				out: line => out.push(line),
				err: line => err.push(line),
			});
			assert.equal(code, 2, args.join(" "));
			assert.match(err[0]!, /^rainmaker-ota-xs app: /);
			assert.match(err[1]!, /^usage: rainmaker-ota-xs app/);
		}
		const bad = await appCommand(["show", "--node", "x", "--base-url", "ftp://x/"], {out: () => {}, err: () => {}});
		assert.equal(bad, 2);
		const help: string[] = [];
		assert.equal(await appCommand(["--help"], {out: line => help.push(line), err: () => {}}), 0);
		assert.match(help[0]!, /^usage:/);
	});
});
