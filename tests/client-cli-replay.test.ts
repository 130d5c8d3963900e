/*
 * Espressif's esp-rainmaker-cli against the local cloud, replayed: PyPI is out of reach of CI, so
 * this test makes exactly the HTTP requests the CLI makes (URL built from its profile host
 * `http://<cloud>/v1/`, headers, bodies, query strings) and reads the answers as the CLI does
 * (docs/local-cloud.md, "esp-rainmaker-cli", lists the CLI's calls and where they are in its
 * source; a run of the real CLI by hand is recorded there too). The flow is the user-approval OTA
 * of a simulated node process: login, getnodes, getnodedetails, getnodestatus, getnodeconfig,
 * getparams, setparams Operation=check, getparams until Info shows the job, setparams start,
 * raw-api GET user/nodes/ota_status until success, the session renewed after the access token
 * expired (apiversions, then login2 with the refresh token), mqtt_host, the user details, logout.
 */
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {buildAppImage} from "../host/tools/app-image";
import {NO_DELAYS, NodeProcess} from "./support/node-process";

/** Python's base64.b64decode without validate=True: letters outside the standard alphabet are dropped (the CLI's token decoding). */
function pythonB64decode(text: string): Buffer {
	return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
}

/** configmanager.get_token_attribute: split('.')[1], '=' padding, b64decode, json.loads. */
function cliTokenAttribute(token: string, name: string): unknown {
	let payload = token.split(".")[1]!;
	if (payload.length % 4) payload += "=".repeat(4 - (payload.length % 4));
	return (JSON.parse(pythonB64decode(payload).toString("utf8")) as Record<string, unknown>)[name];
}

interface CliAnswer {
	status: number;
	body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the CLI reads the JSON untyped, as here
}

describe("esp-rainmaker-cli's requests (replayed) against the local cloud", function () {
	this.timeout(120_000);
	let cloud: Cloud;
	let node: NodeProcess | undefined;
	let dir: string;
	let clock = Date.now();

	beforeEach(function () {
		dir = mkdtempSync(join(tmpdir(), "rmx-cli-"));
	});

	afterEach(async function () {
		await node?.stop();
		node = undefined;
		await cloud?.close();
		rmSync(dir, {recursive: true, force: true});
	});

	/** A request as the CLI's `requests` calls send it. `token` = the session's request_header. */
	async function request(
		method: string,
		url: string,
		options: {token?: string; data?: unknown} = {},
	): Promise<CliAnswer> {
		const headers: Record<string, string> = {"Content-Type": "application/json"};
		if (options.token !== undefined) headers.Authorization = options.token;
		const response = await fetch(url, {
			method,
			headers,
			...(options.data !== undefined ? {body: JSON.stringify(options.data)} : {}),
		});
		const text = await response.text();
		return {status: response.status, body: text === "" ? undefined : JSON.parse(text)};
	}

	it("runs the user-approval flow with a user name and password, and renews an expired session", async function () {
		cloud = await startCloud({users: [{userName: "cli-user@example.com", password: "cli-pass"}], now: () => clock});
		const host = cloud.httpUrl; // the CLI's profile host: "http://127.0.0.1:<port>/v1/"
		assert.match(host, /\/v1\/$/);
		const nodeId = "cli-node-1";
		const v1 = join(dir, "app-1.0.0.bin");
		writeFileSync(v1, buildAppImage({version: "1.0.0", payloadSize: 64 * 1024}));
		node = new NodeProcess(nodeId, cloud.mqttUrl, v1, [...NO_DELAYS, "--no-autofetch"]);
		await cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 20_000);
		const image = await cloud.addImage(buildAppImage({version: "2.0.0", payloadSize: 64 * 1024}));
		const job = await cloud.createJob({imageId: image.id, nodes: [nodeId]});

		// user.login(): POST host + 'login2' {"user_name","password"}; the tokens go to the profile.
		const login = await request("POST", `${host}login2`, {
			data: {user_name: "cli-user@example.com", password: "cli-pass"},
		});
		assert.equal(login.status, 200);
		assert.equal(login.body.status, "success");
		let accessToken: string = login.body.accesstoken;
		const refreshToken: string = login.body.refreshtoken;
		// get_user_name() / get_user_id() / the session's validity check read claims with b64decode.
		assert.equal(cliTokenAttribute(login.body.idtoken, "email"), "cli-user@example.com");
		assert.equal(typeof cliTokenAttribute(login.body.idtoken, "custom:user_id"), "string");
		assert.ok((cliTokenAttribute(accessToken, "exp") as number) > clock / 1000);

		// getnodes: GET host + 'user/nodes', following next_id.
		const nodes = await request("GET", `${host}user/nodes`, {token: accessToken});
		assert.deepEqual([nodes.status, nodes.body.nodes, nodes.body.next_id], [200, [nodeId], undefined]);
		// getnodedetails (all, then one).
		const details = await request("GET", `${host}user/nodes?node_details=true`, {token: accessToken});
		assert.equal(details.body.node_details[0].node_id, nodeId);
		assert.equal(details.body.node_details[0].config.info.fw_version, "1.0.0");
		const one = await request("GET", `${host}user/nodes?node_details=true&node_id=${nodeId}`, {token: accessToken});
		assert.deepEqual(
			one.body.node_details.map((entry: {node_id: string}) => entry.node_id),
			[nodeId],
		);
		// getnodestatus / getnodeconfig / getparams use the "nodeid" query parameter.
		const status = await request("GET", `${host}user/nodes/status?nodeid=${nodeId}`, {token: accessToken});
		assert.equal(status.body.connectivity.connected, true);
		const config = await request("GET", `${host}user/nodes/config?nodeid=${nodeId}`, {token: accessToken});
		const ota = config.body.services.find((service: {type: string}) => service.type === "esp.service.ota");
		assert.deepEqual(
			ota.params.map((param: {name: string}) => param.name),
			["Operation", "Info"],
		);
		const params = await request("GET", `${host}user/nodes/params?nodeid=${nodeId}`, {token: accessToken});
		assert.deepEqual(params.body.OTA.Info, {});

		// setparams: PUT host + 'user/nodes/params' with [{"node_id","payload"}]; the answer is a list per node.
		// The node's report of the offer in Info is awaited as a cloud event, then read the CLI's way.
		const offerReported = cloud.waitFor(
			"params",
			event =>
				event.nodeId === nodeId &&
				(event.params.OTA as {Info?: {job_id?: string}} | undefined)?.Info?.job_id === job.id,
			20_000,
		);
		const checked = await request("PUT", `${host}user/nodes/params`, {
			token: accessToken,
			data: [{node_id: nodeId, payload: {OTA: {Operation: "check"}}}],
		});
		assert.deepEqual(checked.body, [{node_id: nodeId, status: "success", description: "Successfully set params"}]);
		await cloud.waitForStatus(nodeId, job.id, "delayed", 20_000);
		await offerReported;
		const info: {job_id?: string; fw_version?: string} = (
			await request("GET", `${host}user/nodes/params?nodeid=${nodeId}`, {token: accessToken})
		).body.OTA.Info;
		assert.deepEqual([info.job_id, info.fw_version], [job.id, "2.0.0"]);

		// An hour later the access token has expired: refused; the CLI checks apiversions, then renews with the refresh token.
		clock += 3601 * 1000;
		assert.ok((cliTokenAttribute(accessToken, "exp") as number) <= clock / 1000);
		const expired = await request("PUT", `${host}user/nodes/params`, {
			token: accessToken,
			data: [{node_id: nodeId, payload: {OTA: {Operation: "start"}}}],
		});
		assert.equal(expired.status, 401);
		assert.equal(expired.body.status, "failure");
		assert.equal(typeof expired.body.error_code, "number");
		const versions = await request("GET", `${host.slice(0, host.lastIndexOf("v1"))}apiversions`);
		assert.ok(versions.body.supported_versions.includes("v1"));
		const renewed = await request("POST", `${host}login2`, {data: {refreshtoken: refreshToken}});
		assert.equal(renewed.status, 200);
		accessToken = renewed.body.accesstoken;
		assert.equal(renewed.body.refreshtoken, undefined, "a refresh answers id and access tokens only");

		// The node's final report and its new config are awaited as cloud events, then read the CLI's way.
		const newConfig = cloud.waitFor(
			"config",
			event =>
				event.nodeId === nodeId &&
				(event.config.info as {fw_version?: string} | undefined)?.fw_version === "2.0.0",
			60_000,
		);
		const started = await request("PUT", `${host}user/nodes/params`, {
			token: accessToken,
			data: [{node_id: nodeId, payload: {OTA: {Operation: "start"}}}],
		});
		assert.equal(started.body[0].status, "success");
		await cloud.waitForStatus(
			nodeId,
			job.id,
			report => ["success", "failed", "rejected"].includes(report.status),
			60_000,
		);
		// raw-api GET user/nodes/ota_status --query node_id=…&ota_job_id=…
		const answer = await request("GET", `${host}user/nodes/ota_status?node_id=${nodeId}&ota_job_id=${job.id}`, {
			token: accessToken,
		});
		assert.equal(answer.status, 200);
		assert.equal(answer.body.status, "success", answer.body.additional_info);
		await newConfig;
		assert.equal(
			(await request("GET", `${host}user/nodes/config?nodeid=${nodeId}`, {token: accessToken})).body.info
				.fw_version,
			"2.0.0",
		);

		// get_mqtt_host: host.split('v1')[0] + 'mqtt_host', no token.
		const mqttHost = await request("GET", `${host.split("v1")[0]}mqtt_host`);
		assert.equal(mqttHost.body.mqtt_host, "127.0.0.1");
		// get_user_details: host.rstrip('/') + '/user'.
		const user = await request("GET", `${host.replace(/\/+$/, "")}/user`, {token: accessToken});
		assert.equal(user.body.user_name, "cli-user@example.com");
		// logout: POST host.rstrip('/') + '/logout2?logout_all=false', no body.
		const logout = await request("POST", `${host.replace(/\/+$/, "")}/logout2?logout_all=false`, {
			token: accessToken,
		});
		assert.deepEqual([logout.status, logout.body.status], [200, "success"]);
		assert.equal((await request("GET", `${host}user/nodes`, {token: accessToken})).status, 401);
		assert.equal(
			(await request("POST", `${host}login2`, {data: {refreshtoken: refreshToken}})).status,
			401,
			"the refresh token ended with the session",
		);
	});

	it("answers the CLI's error cases in RainMaker's error shape: wrong password, a non-JWT token, unknown node", async function () {
		cloud = await startCloud({users: [{userName: "cli-user@example.com", password: "cli-pass"}]});
		const host = cloud.httpUrl;
		const wrong = await request("POST", `${host}login2`, {
			data: {user_name: "cli-user@example.com", password: "nope"},
		});
		assert.equal(wrong.status, 401);
		assert.deepEqual(Object.keys(wrong.body).sort(), ["description", "error_code", "status"]);
		const devtoken = await request("GET", `${host}user/nodes`, {token: "devtoken"});
		assert.equal(devtoken.status, 401);
		const token = (
			await request("POST", `${host}login2`, {data: {user_name: "cli-user@example.com", password: "cli-pass"}})
		).body.accesstoken;
		const unknown = await request("GET", `${host}user/nodes/config?nodeid=nobody`, {token});
		assert.deepEqual(
			[unknown.status, unknown.body.status, unknown.body.description],
			[404, "failure", "node nobody not found"],
		);
	});
});
