/*
 * The approval client's login (`app login`, host/client/session.ts): the session kept in the state
 * file, the access token renewed with the refresh token when the cloud refuses it or it is about to
 * expire, `app nodes`, `app logout`, and clear errors for a wrong password or a missing login.
 */
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {startCloud, type Cloud, type CloudOptions} from "../host/cloud/cloud";
import {appCommand} from "../host/client/main";
import {announce} from "./support/cloud-fixtures";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

const user = {userName: "app-user@example.com", password: "app-pass"};

describe("approval client: login session", function () {
	let cloud: Cloud;
	let dir: string;
	let stateFile: string;
	let clock: number;
	const nodes: MqttNode[] = [];

	async function start(options: CloudOptions = {}): Promise<void> {
		cloud = await startCloud({users: [user], now: () => clock, ...options});
	}

	async function app(...args: string[]): Promise<{code: number; out: string[]; err: string[]}> {
		const out: string[] = [];
		const err: string[] = [];
		const code = await appCommand([...args, "--state-file", stateFile], {
			out: line => out.push(line),
			err: line => err.push(line),
		});
		return {code, out, err};
	}

	const stored = () =>
		(
			JSON.parse(readFileSync(stateFile, "utf8")) as {
				session?: {accessToken: string; refreshToken: string; baseUrl: string};
			}
		).session;

	beforeEach(function () {
		clock = Date.now();
		dir = mkdtempSync(join(tmpdir(), "client-session-"));
		stateFile = join(dir, "state.json");
	});

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(node => node.close()));
		await cloud?.close();
		rmSync(dir, {recursive: true, force: true});
	});

	it("logs in, keeps the session (mode 0600), lists nodes with the stored base URL, logs out", async function () {
		await start();
		const node = await connectMqttNode(cloud.mqttUrl, "session-node");
		nodes.push(node);
		const reported = cloud.waitFor("params", event => event.nodeId === "session-node" && event.init);
		await announce(node);
		await reported;
		const login = await app(
			"login",
			"--base-url",
			cloud.httpUrl,
			"--user",
			user.userName,
			"--password",
			user.password,
		);
		assert.equal(login.code, 0, login.err.join("\n"));
		assert.match(
			login.out[0]!,
			new RegExp(
				`^logged in to ${cloud.httpUrl} as ${user.userName} \\(access token valid until .*\\); session kept in `,
			),
		);
		assert.equal(stored()?.baseUrl, cloud.httpUrl);
		assert.equal(statSync(stateFile).mode & 0o777, 0o600);
		const listed = await app("nodes");
		assert.deepEqual(listed.out, ["session-node online fw 1.0.0 OTA.Info: {}"]);
		const token = stored()!.accessToken;
		const logout = await app("logout");
		assert.deepEqual([logout.code, logout.out], [0, [`logged out of ${cloud.httpUrl}`]]);
		assert.equal(stored(), undefined);
		assert.equal(
			(await fetch(new URL("user/nodes", cloud.httpUrl), {headers: {Authorization: token}})).status,
			401,
		);
		const after = await app("nodes", "--base-url", cloud.httpUrl);
		assert.equal(after.code, 1);
		assert.match(
			after.err[0]!,
			/not logged in: run "rainmaker-ota-xs app login --user <email> --password <secret>" first/,
		);
	});

	it("renews the access token with the refresh token when the cloud says it expired, and keeps the new one", async function () {
		await start();
		assert.equal(
			(await app("login", "--base-url", cloud.httpUrl, "--user", user.userName, "--password", user.password))
				.code,
			0,
		);
		const first = stored()!;
		clock += 2 * 3600 * 1000; // the cloud's hour has passed; the client's own clock says the token is still valid
		assert.equal(
			(await fetch(new URL("user/nodes", cloud.httpUrl), {headers: {Authorization: first.accessToken}})).status,
			401,
		);
		const listed = await app("nodes");
		assert.deepEqual([listed.code, listed.out], [0, ["no nodes"]]);
		const second = stored()!;
		assert.notEqual(second.accessToken, first.accessToken);
		assert.equal(second.refreshToken, first.refreshToken);
		assert.equal(
			(await fetch(new URL("user/nodes", cloud.httpUrl), {headers: {Authorization: second.accessToken}})).status,
			200,
		);
	});

	it("renews a token about to expire before using it", async function () {
		await start({tokenLifetimeSeconds: 30});
		assert.equal(
			(await app("login", "--base-url", cloud.httpUrl, "--user", user.userName, "--password", user.password))
				.code,
			0,
		);
		const first = stored()!.accessToken;
		clock += 1000;
		assert.equal((await app("nodes")).code, 0);
		assert.notEqual(stored()!.accessToken, first);
	});

	it("says why it cannot: wrong password, a session for another cloud, a refresh token the cloud no longer takes", async function () {
		await start();
		const wrong = await app("login", "--base-url", cloud.httpUrl, "--user", user.userName, "--password", "nope");
		assert.equal(wrong.code, 1);
		assert.match(wrong.err[0]!, /POST login2: HTTP 401: Incorrect user name or password/);
		assert.equal(
			(await app("login", "--base-url", cloud.httpUrl, "--user", user.userName, "--password", user.password))
				.code,
			0,
		);
		const elsewhere = await app("nodes", "--base-url", "http://127.0.0.1:1/v1/");
		assert.equal(elsewhere.code, 2);
		assert.match(
			elsewhere.err[0]!,
			/the login session is for http:\/\/127\.0\.0\.1:\d+\/v1\/, not http:\/\/127\.0\.0\.1:1\/v1\/; log in there first/,
		);
		const url = cloud.httpUrl;
		await cloud.close();
		clock += 2 * 3600 * 1000;
		await start({httpPort: Number(new URL(url).port)}); // a new cloud run: the old tokens mean nothing to it
		const stale = await app("nodes");
		assert.equal(stale.code, 1);
		assert.match(
			stale.err[0]!,
			/the login session could not be renewed \(POST login2: HTTP 401: Invalid refresh token\); log in again/,
		);
		const missing = await app("login", "--user", user.userName);
		assert.equal(missing.code, 2);
	});
});
