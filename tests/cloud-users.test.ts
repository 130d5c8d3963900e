/*
 * Users, tokens and node ownership of the local cloud's REST API (docs/local-cloud.md, "Users and
 * authorization", "Tokens", "REST API"): login2 and its tokens as both Espressif clients decode
 * them, expiry and refresh, logout2, user info, the node list with pagination, mapping a node to
 * another user with the node's confirmation, and base URLs with or without a trailing slash.
 */
import assert from "node:assert/strict";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {signJwt, verifyJwt} from "../host/cloud/jwt";
import {announce, fixtureImage} from "./support/cloud-fixtures";
import {login} from "./support/cloud-login";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

const owner = {userName: "owner@example.com", password: "owner-pass"};
const second = {userName: "second@example.com", password: "second-pass"};

describe("local cloud: users, tokens and node ownership", function () {
	let cloud: Cloud;
	let clock: number;
	const nodes: MqttNode[] = [];

	beforeEach(async function () {
		clock = Date.parse("2026-06-01T12:00:00Z");
		cloud = await startCloud({users: [owner, second], now: () => clock});
	});

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(node => node.close()));
		await cloud.close();
	});

	async function node(nodeId: string): Promise<MqttNode> {
		const connected = await connectMqttNode(cloud.mqttUrl, nodeId);
		nodes.push(connected);
		const reported = cloud.waitFor("params", event => event.nodeId === nodeId && event.init);
		await announce(connected);
		await reported;
		return connected;
	}

	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read any JSON the cloud answers
	async function get(path: string, token: string): Promise<{status: number; body: any}> {
		const response = await fetch(new URL(path, cloud.httpUrl), {headers: {Authorization: token}});
		return {status: response.status, body: await response.json()};
	}

	it("issues tokens both clients can decode (atob, Python's lenient b64decode) for any user name, and checks their signature", async function () {
		const secret = Buffer.from("0123456789abcdef0123456789abcdef");
		for (let index = 0; index < 300; index++) {
			// User names and ids with every character that would make '-' or '_' in base64url.
			const claims = {
				sub: `user_${index}?/~>O_o`,
				email: `${"o".repeat(index % 7)}_x${index}@example.org`,
				iat: 1,
				exp: 2_000_000_000 + index,
			};
			const token = signJwt(claims, secret);
			const payload = token.split(".")[1]!;
			assert.doesNotMatch(payload, /[-_]/);
			assert.deepEqual(JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "="))), claims);
			// Python's b64decode drops letters outside the standard alphabet; there are none to drop.
			assert.deepEqual(
				JSON.parse(Buffer.from(payload.replace(/[^A-Za-z0-9+/]/g, ""), "base64").toString("utf8")),
				claims,
			);
			const check = verifyJwt(token, secret, 1_900_000_000);
			assert.ok(check.ok && check.claims.email === claims.email);
		}
		const token = signJwt({sub: "a", iat: 1, exp: 100}, secret);
		assert.deepEqual(verifyJwt(token, secret, 100), {ok: false, reason: "expired"});
		assert.deepEqual(verifyJwt(token, Buffer.from("another secret of 32 bytes......"), 50), {
			ok: false,
			reason: "signature",
		});
		const [header, , signature] = token.split(".");
		const forged = `${header}.${Buffer.from(JSON.stringify({sub: "a", iat: 1, exp: 1e12})).toString("base64url")}.${signature}`;
		assert.deepEqual(verifyJwt(forged, secret, 50), {ok: false, reason: "signature"});
		assert.deepEqual(verifyJwt("devtoken", secret, 50), {ok: false, reason: "malformed"});
	});

	it("login2: password → three tokens with an hour's expiry; refresh → new id and access tokens; expired tokens refused", async function () {
		const tokens = await login(cloud, owner);
		const claims = JSON.parse(atob(tokens.idtoken.split(".")[1]!)) as Record<string, unknown>;
		assert.equal(claims.email, owner.userName);
		assert.equal(claims.exp, clock / 1000 + 3600);
		assert.equal((await get("user2", tokens.accesstoken)).body.user_name, owner.userName);
		assert.equal((await get("user2", tokens.idtoken)).status, 401, "the id token is not an access token");
		assert.equal((await get("user2", tokens.refreshtoken)).status, 401, "nor is the refresh token");
		clock += 3600 * 1000;
		const expired = await get("user2", tokens.accesstoken);
		assert.deepEqual(
			[expired.status, expired.body.description],
			[401, "Unauthorized: the access token has expired"],
		);
		const refreshed = await fetch(new URL("login2", cloud.httpUrl), {
			method: "POST",
			body: JSON.stringify({user_name: owner.userName, refreshtoken: tokens.refreshtoken}),
		});
		const body = (await refreshed.json()) as {accesstoken: string; refreshtoken?: string};
		assert.equal(refreshed.status, 200);
		assert.equal(body.refreshtoken, undefined);
		assert.equal((await get("user", body.accesstoken)).body.user_name, owner.userName);
		const otherUser = await fetch(new URL("login2", cloud.httpUrl), {
			method: "POST",
			body: JSON.stringify({user_name: second.userName, refreshtoken: tokens.refreshtoken}),
		});
		assert.equal(otherUser.status, 401, "a refresh token works only for its own user");
		const unknown = await fetch(new URL("login2", cloud.httpUrl), {
			method: "POST",
			body: JSON.stringify({user_name: "nobody@example.com", password: "x"}),
		});
		assert.deepEqual(await unknown.json(), {
			status: "failure",
			description: "Incorrect user name or password",
			error_code: 100001,
		});
	});

	it("logout2 ends one session, or all with logout_all", async function () {
		const first = await login(cloud, owner);
		const other = await login(cloud, owner);
		const logout = await fetch(new URL("logout2", cloud.httpUrl), {
			method: "POST",
			headers: {Authorization: first.accesstoken},
			body: JSON.stringify({logout_all: false}),
		});
		assert.equal(logout.status, 200);
		assert.equal((await get("user2", first.accesstoken)).status, 401);
		assert.equal((await get("user2", other.accesstoken)).status, 200);
		const third = await login(cloud, owner);
		await fetch(new URL("logout2?logout_all=true", cloud.httpUrl), {
			method: "POST",
			headers: {Authorization: third.accesstoken},
		});
		assert.equal((await get("user2", other.accesstoken)).status, 401);
	});

	it("user/nodes: ids or details, paginated with num_records/start_id → next_id and total; only the user's nodes", async function () {
		for (const id of ["page-c", "page-a", "page-b"]) await node(id);
		const token = (await login(cloud, owner)).accesstoken;
		const all = await get("user/nodes", token);
		assert.deepEqual(all.body, {nodes: ["page-a", "page-b", "page-c"], total: 3});
		const page1 = await get("user/nodes?node_details=true&num_records=2", token);
		assert.deepEqual([page1.body.nodes, page1.body.next_id, page1.body.total], [["page-a", "page-b"], "page-c", 3]);
		assert.deepEqual(Object.keys(page1.body.node_details[0]).sort(), [
			"config",
			"node_id",
			"params",
			"primary",
			"role",
			"status",
		]);
		assert.deepEqual(page1.body.node_details[0].status.connectivity.connected, true);
		const page2 = await get("user/nodes?node_details=true&num_records=2&start_id=page-c", token);
		assert.deepEqual([page2.body.nodes, page2.body.next_id], [["page-c"], undefined]);
		const slim = await get("user/nodes?node_details=true&config=false&params=false", token);
		assert.deepEqual(Object.keys(slim.body.node_details[0]).sort(), ["node_id", "primary", "role", "status"]);
		assert.equal((await get("user/nodes?num_records=0", token)).status, 400);
		assert.equal((await get("user/nodes?start_id=ghost", token)).status, 400);
		const guest = (await login(cloud, second)).accesstoken;
		assert.deepEqual((await get("user/nodes", guest)).body, {nodes: [], total: 0});
		assert.equal((await get("user/nodes?node_id=page-a", guest)).status, 404);
		assert.equal((await get("user/nodes/status?node_id=page-a", guest)).status, 404);
		assert.deepEqual((await get("user/nodes/status?node_id=page-a", token)).body.connectivity.connected, true);
	});

	it("user/nodes/mapping: a node moves to another user only when the node confirms the same secret key", async function () {
		const mapped = await node("map-a");
		const guest = (await login(cloud, second)).accesstoken;
		const guestInfo = (await get("user2", guest)).body as {user_id: string};
		const put = async (body: unknown) =>
			(
				await fetch(new URL("user/nodes/mapping", cloud.httpUrl), {
					method: "PUT",
					headers: {Authorization: guest},
					body: JSON.stringify(body),
				})
			).json() as Promise<{request_id: string}>;
		const request = await put({node_id: "map-a", secret_key: "s3cr3t", operation: "add"});
		assert.deepEqual(
			(await get(`user/nodes/mapping?request_id=${request.request_id}`, guest)).body.request_status,
			"requested",
		);
		assert.deepEqual((await get("user/nodes", guest)).body.nodes, []);
		// The node reports a different key first: nothing happens; then the right one.
		const wrongKey = cloud.waitFor(
			"message",
			message => message.suffix === "user/mapping" && message.payload.includes("wrong"),
		);
		await mapped.publish("user/mapping", {node_id: "map-a", user_id: guestInfo.user_id, secret_key: "wrong"});
		await wrongKey;
		assert.deepEqual(
			(await get(`user/nodes/mapping?request_id=${request.request_id}`, guest)).body.request_status,
			"requested",
		);
		assert.deepEqual((await get("user/nodes", guest)).body.nodes, []);
		const rightKey = cloud.waitFor(
			"message",
			message => message.suffix === "user/mapping" && message.payload.includes("s3cr3t"),
		);
		await mapped.publish("user/mapping", {node_id: "map-a", user_id: guestInfo.user_id, secret_key: "s3cr3t"});
		await rightKey;
		assert.deepEqual(
			(await get(`user/nodes/mapping?request_id=${request.request_id}`, guest)).body.request_status,
			"confirmed",
		);
		assert.deepEqual((await get("user/nodes", guest)).body.nodes, ["map-a"]);
		const ownerToken = (await login(cloud, owner)).accesstoken;
		assert.deepEqual((await get("user/nodes", ownerToken)).body.nodes, []);
		assert.equal(
			(await get(`user/nodes/mapping?request_id=${request.request_id}`, ownerToken)).status,
			404,
			"a request is seen only by its user",
		);
	});

	it("answers with or without a trailing slash in the base URL, and at the root for apiversions and mqtt_host", async function () {
		const token = (await login(cloud, owner)).accesstoken;
		const base = cloud.httpUrl.replace(/\/v1\/$/, "");
		for (const url of [`${base}/v1/user2`, `${base}//v1/user2`, `${base}/v1//user2`, `${base}/v1/user2/`]) {
			const response = await fetch(url, {headers: {Authorization: token}});
			assert.equal(response.status, 200, url);
		}
		for (const url of [`${base}/apiversions`, `${base}/v1/apiversions`, `${base}//apiversions`])
			assert.deepEqual(await (await fetch(url)).json(), {supported_versions: ["v1"]}, url);
		const mqttHost = (await (await fetch(`${base}/mqtt_host`)).json()) as {mqtt_host: string; mqtt_url: string};
		assert.deepEqual([mqttHost.mqtt_host, mqttHost.mqtt_url], ["127.0.0.1", cloud.mqttUrl]);
		const wrongRoot = await fetch(`${base}/user2`, {headers: {Authorization: token}});
		assert.equal(wrongRoot.status, 404);
		assert.deepEqual(Object.keys((await wrongRoot.json()) as object).sort(), [
			"description",
			"error_code",
			"status",
		]);
	});

	it("a job's node belongs to the first user before it ever connects: its status for the owner, 404 for others", async function () {
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		const job = await cloud.createJob({imageId: image.id, nodes: ["not-yet-node"]});
		const ownerToken = (await login(cloud, owner)).accesstoken;
		const status = await get(`user/nodes/ota_status?node_id=not-yet-node&ota_job_id=${job.id}`, ownerToken);
		assert.deepEqual([status.status, status.body.status], [200, "triggered"]);
		const guest = (await login(cloud, second)).accesstoken;
		assert.equal((await get(`user/nodes/ota_status?node_id=not-yet-node&ota_job_id=${job.id}`, guest)).status, 404);
	});

	it("lets a web app on another origin call the API (CORS preflight and headers)", async function () {
		const preflight = await fetch(new URL("user/nodes/params", cloud.httpUrl), {
			method: "OPTIONS",
			headers: {
				Origin: "http://app.example",
				"Access-Control-Request-Method": "PUT",
				"Access-Control-Request-Headers": "authorization,content-type",
			},
		});
		assert.equal(preflight.status, 204);
		assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
		assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, PUT");
		assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/);
		const refused = await fetch(new URL("user/nodes", cloud.httpUrl), {headers: {Origin: "http://app.example"}});
		assert.deepEqual([refused.status, refused.headers.get("access-control-allow-origin")], [401, "*"]);
	});

	it("admin calls need the first user (the admin)", async function () {
		const guest = (await login(cloud, second)).accesstoken;
		const refused = await fetch(new URL("admin/otajob", cloud.httpUrl), {
			method: "POST",
			headers: {Authorization: guest},
			body: JSON.stringify({}),
		});
		assert.equal(refused.status, 403);
		const admin = (await login(cloud, owner)).accesstoken;
		const allowed = await fetch(new URL("admin/otajob", cloud.httpUrl), {
			method: "POST",
			headers: {Authorization: admin},
			body: JSON.stringify({}),
		});
		assert.equal(allowed.status, 400, "past the check, the empty body is refused");
	});
});
