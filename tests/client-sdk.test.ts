/*
 * Espressif's own app SDK (npm @espressif/rainmaker-base-sdk, a devDependency), unchanged, against
 * the local cloud and a simulated node process: the user-approval OTA flow as a phone app built on
 * the SDK runs it. Log in with a password, list the user's nodes, read the config, write
 * Operation=check through the SDK's param API, see the offer in Info by listing again, write start,
 * follow getOTAUpdateStatus to success, see the new fw_version, log out. No token is injected and
 * no SDK object is built by hand: everything comes from the SDK's own calls.
 */
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ESPRMBase} from "@espressif/rainmaker-base-sdk";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {cloudCommand} from "../host/cloud/main";
import {buildAppImage} from "../host/tools/app-image";
import {NO_DELAYS, NodeProcess} from "./support/node-process";

/** The SDK keeps its tokens through a storage adapter; in a browser it is localStorage. */
class MemoryStorage {
	readonly items = new Map<string, string>();
	async setItem(name: string, value: string): Promise<void> {
		this.items.set(name, value);
	}
	async getItem(name: string): Promise<string | null> {
		return this.items.get(name) ?? null;
	}
	async removeItem(name: string): Promise<void> {
		this.items.delete(name);
	}
	async clear(): Promise<void> {
		this.items.clear();
	}
}

interface SdkParam {
	name: string;
	type: string;
	value: unknown;
	setValue(value: unknown): Promise<unknown>;
}
interface SdkNode {
	id: string;
	connectivityStatus?: {isConnected: boolean};
	nodeConfig?: {
		info: {firmwareVersion?: string};
		services: {name: string; type: string; params: SdkParam[]}[];
		devices: {name: string; type: string; params: SdkParam[]}[];
	};
	getNodeConfig(): Promise<{info: {firmwareVersion?: string}}>;
	getOTAUpdateStatus(
		jobId: string,
	): Promise<{nodeId: string; status: string; additionalInfo: string; timestamp: number}>;
	checkOTAUpdate(): Promise<{otaAvailable: boolean; otaJobId?: string; fwVersion?: string; status: string}>;
	pushOTAUpdate(jobId: string): Promise<{status: string}>;
}
interface SdkUser {
	getUserNodes(): Promise<{nodes: SdkNode[]; hasNext: boolean}>;
	getUserInfo(): Promise<{userId: string; username: string}>;
	logout(): Promise<{status: string}>;
}

/** Polls an async condition (each poll is a real request) until it holds; fails after `timeoutMs`. */
async function waitUntil(
	condition: () => Promise<boolean>,
	what: string,
	timeoutMs: number,
	intervalMs = 200,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
		await new Promise(resolve => setTimeout(resolve, intervalMs));
	}
}

/** Resolves when the node reports `jobId` in its OTA Info (a params/local message the cloud received). */
/** The guest user's access token, from login2 as an app gets it (the REST calls the SDK does not offer). */
async function guestTokenOf(cloud: Cloud): Promise<string> {
	const response = await fetch(new URL("login2", cloud.httpUrl), {
		method: "POST",
		body: JSON.stringify({user_name: "guest@example.com", password: "s3cret-guest"}),
	});
	return ((await response.json()) as {accesstoken: string}).accesstoken;
}

function infoReported(cloud: Cloud, nodeId: string, jobId: string): Promise<unknown> {
	return cloud.waitFor(
		"params",
		event =>
			event.nodeId === nodeId &&
			(event.params.OTA as {Info?: {job_id?: string}} | undefined)?.Info?.job_id === jobId,
		20_000,
	);
}

/** The example product's switch Power (esp.device.switch / esp.param.power), as an app finds it by types. */
function switchPower(node: SdkNode): SdkParam {
	const device = node.nodeConfig?.devices.find(candidate => candidate.type === "esp.device.switch");
	const param = device?.params.find(candidate => candidate.type === "esp.param.power");
	assert.ok(param, `node ${node.id} has no switch with a power param`);
	return param;
}

function otaParam(node: SdkNode, type: string): SdkParam {
	const service = node.nodeConfig?.services.find(candidate => candidate.type === "esp.service.ota");
	const param = service?.params.find(candidate => candidate.type === type);
	assert.ok(param, `node ${node.id} has no ${type} param`);
	return param;
}

describe("Espressif app SDK (rainmaker-base-sdk) against the local cloud", function () {
	this.timeout(120_000);
	let cloud: Cloud;
	let node: NodeProcess | undefined;
	let dir: string;
	let command: Promise<number> | undefined;
	let stopCommand: AbortController | undefined;

	beforeEach(function () {
		dir = mkdtempSync(join(tmpdir(), "rmx-sdk-"));
	});

	afterEach(async function () {
		await node?.stop();
		node = undefined;
		if (stopCommand) {
			stopCommand.abort();
			assert.equal(await command, 0);
			stopCommand = undefined;
		} else {
			await cloud?.close();
		}
		rmSync(dir, {recursive: true, force: true});
	});

	async function startNodeOn(target: Cloud, nodeId: string): Promise<void> {
		const v1 = join(dir, "app-1.0.0.bin");
		writeFileSync(v1, buildAppImage({version: "1.0.0", payloadSize: 64 * 1024}));
		const reported = target.waitFor("params", event => event.nodeId === nodeId && event.init, 20_000);
		node = new NodeProcess(nodeId, target.mqttUrl, v1, [...NO_DELAYS, "--no-autofetch"]);
		await reported;
	}

	async function startNode(nodeId: string): Promise<{v2: Uint8Array}> {
		await startNodeOn(cloud, nodeId);
		return {v2: buildAppImage({version: "2.0.0", payloadSize: 64 * 1024})};
	}

	/** Configures the SDK as an app does: the base URL without /v1 (the SDK adds the version), storage for its tokens. */
	function configureSdk(trailingSlash = false): MemoryStorage {
		const storage = new MemoryStorage();
		const baseUrl = cloud.httpUrl.replace(/\/v1\/$/, trailingSlash ? "/" : "");
		ESPRMBase.configure({baseUrl, version: "v1", customStorageAdapter: storage} as Parameters<
			typeof ESPRMBase.configure
		>[0]);
		return storage;
	}

	it("logs in, lists the node, checks, approves with Operation=start, follows getOTAUpdateStatus to success, logs out", async function () {
		// The cloud as a person starts it: `rainmaker-ota-xs cloud` with a user, the image and a job for the node.
		const nodeId = "sdk-node-1";
		const v2Path = join(dir, "app-2.0.0.bin");
		writeFileSync(v2Path, buildAppImage({version: "2.0.0", payloadSize: 64 * 1024}));
		const stop = new AbortController();
		stopCommand = stop;
		const ready = new Promise<Cloud>(resolve => {
			command = cloudCommand(
				[
					"--mqtt-port",
					"0",
					"--http-port",
					"0",
					"--quiet",
					"--user",
					"owner@example.com",
					"--password",
					"s3cret-owner",
					"--image",
					v2Path,
					"--job-node",
					nodeId,
				],
				{out: () => {}, err: line => console.error(line), signal: stop.signal, onReady: resolve},
			);
		});
		const commandCloud = await ready;
		await startNodeOn(commandCloud, nodeId);
		const job = commandCloud.jobs()[0]!;
		cloud = commandCloud;

		const storage = configureSdk();
		const user = (await ESPRMBase.getAuthInstance().login(
			"owner@example.com",
			"s3cret-owner",
		)) as unknown as SdkUser;
		assert.equal((await user.getUserInfo()).username, "owner@example.com");

		const listed = await user.getUserNodes();
		assert.deepEqual(
			listed.nodes.map(entry => entry.id),
			[nodeId],
		);
		const sdkNode = listed.nodes[0]!;
		assert.equal(sdkNode.connectivityStatus?.isConnected, true);
		assert.equal((await sdkNode.getNodeConfig()).info.firmwareVersion, "1.0.0");

		// The product's switch: the SDK toggles its Power; the node applies it and reports it.
		assert.equal(switchPower(sdkNode).value, false);
		const powered = cloud.waitFor(
			"params",
			event => event.nodeId === nodeId && (event.params.Switch as {Power?: boolean} | undefined)?.Power === true,
			20_000,
		);
		await switchPower(sdkNode).setValue(true);
		await powered;
		assert.equal(switchPower((await user.getUserNodes()).nodes[0]!).value, true);

		// The node's report of the offer in Info is awaited as a cloud event; then the SDK lists the nodes again.
		const offerReported = infoReported(cloud, nodeId, job.id);
		await otaParam(sdkNode, "esp.param.ota_operation").setValue("check");
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		await offerReported;
		const again = (await user.getUserNodes()).nodes.find(entry => entry.id === nodeId)!;
		const offer = otaParam(again, "esp.param.ota_info").value as {job_id?: string; fw_version?: string};
		assert.deepEqual([offer?.job_id, offer?.fw_version], [job.id, "2.0.0"]);

		const fresh = (await user.getUserNodes()).nodes.find(entry => entry.id === nodeId)!;
		const newConfig = cloud.waitFor(
			"config",
			event =>
				event.nodeId === nodeId &&
				(event.config.info as {fw_version?: string} | undefined)?.fw_version === "2.0.0",
			60_000,
		);
		await otaParam(fresh, "esp.param.ota_operation").setValue("start");
		const seen: string[] = [];
		await waitUntil(
			async () => {
				const status = await fresh.getOTAUpdateStatus(offer.job_id!);
				assert.equal(status.nodeId, nodeId);
				if (seen.at(-1) !== status.status) seen.push(status.status);
				assert.notEqual(status.status, "rejected", status.additionalInfo);
				return status.status === "success";
			},
			"getOTAUpdateStatus success",
			60_000,
			100,
		);
		assert.equal(seen.at(-1), "success");
		await newConfig;
		const after = (await user.getUserNodes()).nodes.find(entry => entry.id === nodeId)!;
		assert.equal(after.nodeConfig?.info.firmwareVersion, "2.0.0");
		assert.equal(switchPower(after).value, true, "the switch kept its Power through the update");

		const accessToken = storage.items.get("com.esprmbase.accessToken")!;
		assert.equal((await user.logout()).status, "success");
		assert.equal(storage.items.size, 0, "the SDK forgot its tokens");
		const afterLogout = await fetch(new URL("user/nodes", cloud.httpUrl), {headers: {Authorization: accessToken}});
		assert.equal(afterLogout.status, 401, "the session ended on the cloud too");
	});

	it("another user sees none of the node and cannot write its params; a wrong password is refused", async function () {
		cloud = await startCloud({
			users: [
				{userName: "owner@example.com", password: "s3cret-owner"},
				{userName: "guest@example.com", password: "s3cret-guest"},
			],
		});
		await startNode("sdk-node-2");
		configureSdk(true);
		const auth = ESPRMBase.getAuthInstance();
		await assert.rejects(
			auth.login("owner@example.com", "wrong"),
			(error: {statusCode?: number; description?: string; errorCode?: unknown}) =>
				error.statusCode === 401 &&
				/Incorrect user name or password/.test(error.description ?? "") &&
				typeof error.errorCode === "number",
		);
		const guest = (await auth.login("guest@example.com", "s3cret-guest")) as unknown as SdkUser;
		assert.deepEqual((await guest.getUserNodes()).nodes, []);
		const token = await guestTokenOf(cloud);
		const write = await fetch(new URL("user/nodes/params", cloud.httpUrl), {
			method: "PUT",
			headers: {Authorization: token},
			body: JSON.stringify([{node_id: "sdk-node-2", payload: {OTA: {Operation: "start"}}}]),
		});
		assert.deepEqual(await write.json(), [
			{node_id: "sdk-node-2", status: "failure", description: "node sdk-node-2 not found"},
		]);
		const read = await fetch(new URL("user/nodes/params?node_id=sdk-node-2", cloud.httpUrl), {
			headers: {Authorization: token},
		});
		assert.equal(read.status, 404);
	});

	it("cloud-side approval of a user-approval job: checkOTAUpdate offers it, pushOTAUpdate serves it, the node still waits for its own start", async function () {
		cloud = await startCloud({
			users: [
				{userName: "owner@example.com", password: "s3cret-owner"},
				{userName: "guest@example.com", password: "s3cret-guest"},
			],
		});
		const nodeId = "sdk-node-3";
		const {v2} = await startNode(nodeId);
		const image = await cloud.addImage(v2);
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId], userApproval: true});
		configureSdk();
		const auth = ESPRMBase.getAuthInstance();

		// Before the cloud-side approval the job is not served: the node's own check finds nothing.
		const fetched = cloud.waitFor("otafetch", event => event.nodeId === nodeId, 20_000);
		const owner = (await auth.login("owner@example.com", "s3cret-owner")) as unknown as SdkUser;
		const sdkNode = (await owner.getUserNodes()).nodes[0]!;
		await otaParam(sdkNode, "esp.param.ota_operation").setValue("check");
		assert.equal((await fetched).servedJobId, undefined);

		const offer = await sdkNode.checkOTAUpdate();
		assert.deepEqual(
			[offer.status, offer.otaAvailable, offer.otaJobId, offer.fwVersion],
			["success", true, job.id, "2.0.0"],
		);

		// Another user can neither see nor push it.
		const guest = (await auth.login("guest@example.com", "s3cret-guest")) as unknown as SdkUser;
		assert.deepEqual((await guest.getUserNodes()).nodes, []);
		const guestToken = await guestTokenOf(cloud);
		const pushedByGuest = await fetch(new URL("user/nodes/ota_update", cloud.httpUrl), {
			method: "POST",
			headers: {Authorization: guestToken},
			body: JSON.stringify({ota_job_id: job.id, node_id: nodeId}),
		});
		assert.equal(pushedByGuest.status, 404);
		assert.equal(cloud.jobState(nodeId, job.id)?.approved, false);

		// The owner approves on the cloud side: the cloud pushes otaurl; the node offers it and waits for its own approval.
		await auth.login("owner@example.com", "s3cret-owner");
		const pushed = cloud.waitFor("otaurl", event => event.nodeId === nodeId && event.reason === "approval", 20_000);
		const pushedReported = infoReported(cloud, nodeId, job.id);
		assert.equal((await sdkNode.pushOTAUpdate(job.id)).status, "success");
		await pushed;
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		assert.equal(
			cloud.statuses(nodeId, job.id).some(report => report.status === "in-progress"),
			false,
			"nothing installed before the node's own approval",
		);
		await pushedReported;
		const again = (await owner.getUserNodes()).nodes[0]!;
		assert.equal(
			(otaParam(again, "esp.param.ota_info").value as {job_id?: string})?.job_id,
			job.id,
			"the pushed job in Info",
		);

		const fresh = (await owner.getUserNodes()).nodes[0]!;
		await otaParam(fresh, "esp.param.ota_operation").setValue("start");
		await waitUntil(
			async () => (await fresh.getOTAUpdateStatus(job.id)).status === "success",
			"success",
			60_000,
			100,
		);
		const after = await fresh.checkOTAUpdate();
		assert.equal(after.otaAvailable, false);
	});
});
