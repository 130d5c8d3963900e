/*
 * The attacks of an outsider on the same machine against the local cloud (docs/local-cloud.md,
 * "MQTT identities", "Bounded state", "Login throttling"), each reproduced and refused: the node's
 * client id taken over on the plain listener, retained commands, `/` in a client id, a config that
 * breaks the owner's node list, unbounded node state, and a login flood.
 */
import assert from "node:assert/strict";
import mqtt, {type MqttClient} from "mqtt";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {isNodeId, maySubscribe, publishRefusal} from "../host/cloud/identity";
import {CONFIG_LIMITS, PARAMS_LIMITS} from "../host/cloud/limits";
import {DEFAULT_USER} from "../host/cloud/defaults";
import {announce, drain, fixtureImage} from "./support/cloud-fixtures";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

describe("local cloud: the attacks of an outsider on the same machine", function () {
	this.timeout(60_000);
	let cloud: Cloud;
	const clients: MqttClient[] = [];
	const nodes: MqttNode[] = [];

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(node => node.close()));
		await Promise.all(clients.splice(0).map(client => client.endAsync(true)));
		await cloud?.close();
	});

	async function node(nodeId: string): Promise<MqttNode> {
		const connected = await connectMqttNode(cloud.mqttUrl, nodeId);
		nodes.push(connected);
		await announce(connected);
		return connected;
	}

	/** Connects; resolves with the client, or with the CONNACK code when the broker refused. */
	async function connect(clientId: string): Promise<MqttClient | number> {
		try {
			const connected = await mqtt.connectAsync(cloud.mqttUrl, {
				clientId,
				reconnectPeriod: 0,
				connectTimeout: 5000,
			});
			clients.push(connected);
			return connected;
		} catch (error) {
			return (error as {code?: number}).code ?? -1;
		}
	}

	async function publishAndBeDropped(
		attacker: MqttClient,
		topic: string,
		payload: unknown,
		retain = false,
	): Promise<void> {
		const closed = new Promise<void>(resolve => attacker.once("close", () => resolve()));
		attacker.publish(topic, typeof payload === "string" ? payload : JSON.stringify(payload), {qos: 1, retain});
		await closed;
	}

	async function login(): Promise<string> {
		const response = await fetch(new URL("login2", cloud.httpUrl), {
			method: "POST",
			body: JSON.stringify({user_name: DEFAULT_USER.userName, password: DEFAULT_USER.password}),
		});
		assert.equal(response.status, 200);
		return ((await response.json()) as {accesstoken: string}).accesstoken;
	}

	describe("identities on every listener (findings 1 and 2)", function () {
		beforeEach(async function () {
			cloud = await startCloud();
		});

		it("finding 1: an anonymous client cannot take over a connected node's id on the plain listener, nor retain a command", async function () {
			const victim = await node("victim-a");
			const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
			const evil = {
				ota_job_id: "evil",
				url: cloud.imageUrl(image),
				file_size: image.fileSize,
				fw_version: "6.6.6",
			};
			// The takeover: CONNACK 2 (identifier rejected); the node keeps its connection.
			assert.equal(await connect("victim-a"), 2);
			assert.ok(victim.client.connected, "the node is not kicked off");
			// With its own id an attacker can neither retain nor write a command topic, not even its own.
			const own = await connect("attacker-a");
			assert.ok(typeof own !== "number");
			await publishAndBeDropped(own, "node/attacker-a/otaurl", evil, true);
			const again = await connect("attacker-a");
			assert.ok(typeof again !== "number");
			await publishAndBeDropped(again, "node/attacker-a/otaurl", evil);
			const retainer = await connect("attacker-a");
			assert.ok(typeof retainer !== "number");
			await publishAndBeDropped(retainer, "node/attacker-a/params/local", {OTA: {Operation: "start"}}, true);
			// Once the node is offline, the id is free; but a retained otaurl or start on its topics is still refused.
			const offline = cloud.waitFor("offline", nodeId => nodeId === "victim-a");
			await victim.close();
			nodes.splice(nodes.indexOf(victim), 1);
			await offline;
			const impostor = await connect("victim-a");
			assert.ok(
				typeof impostor !== "number",
				"the id of a node that is offline can connect (the plain listener proves nothing)",
			);
			await publishAndBeDropped(impostor, "node/victim-a/otaurl", evil, true);
			const impostor2 = await connect("victim-a");
			assert.ok(typeof impostor2 !== "number");
			await publishAndBeDropped(impostor2, "node/victim-a/params/remote", {OTA: {Operation: "start"}}, true);
			// The node comes back: nothing retained waits for it.
			const back = await connectMqttNode(cloud.mqttUrl, "victim-a");
			nodes.push(back);
			await drain(cloud, back);
			assert.deepEqual(
				back.received.filter(message => message.retain || message.topic.endsWith("/otaurl")),
				[],
			);
		});

		it("finding 2: a client id with / + # or anything the node-id rule refuses is refused at CONNECT; topics compare whole levels", async function () {
			const victim = await node("victim");
			for (const id of ["victim/params", "victim/user", "node+", "a#b", "has space", "x".repeat(65)])
				assert.equal(await connect(id), 2, id);
			assert.ok(victim.client.connected);
			await drain(cloud, victim);
			assert.deepEqual(
				victim.on("params/remote").filter(message => message.payload.includes("Operation")),
				[],
			);
			assert.equal(isNodeId("victim"), true);
			assert.equal(isNodeId("victim/params"), false);
			// The rules by whole topic level, whatever the broker lets through.
			assert.notEqual(publishRefusal("victim", "node/victim/params/remote", false), undefined, "a command topic");
			assert.notEqual(publishRefusal("victim/params", "node/victim/params/local", false), undefined);
			assert.equal(publishRefusal("victim", "node/victim/params/local", false), undefined);
			assert.notEqual(publishRefusal("vic", "node/victim/params/local", false), undefined);
			assert.equal(maySubscribe("victim", "node/victim/#"), true);
			assert.equal(maySubscribe("victim/params", "node/victim/params/remote"), false);
			assert.equal(maySubscribe("vic", "node/victim/otaurl"), false);
		});
	});

	describe("bounded state (findings 3 and 4)", function () {
		it("finding 3: a deeply nested config is refused where it arrives; the owner's node list still answers; a nested PUT params answers 400", async function () {
			cloud = await startCloud();
			const victim = await node("deep-node");
			const token = await login();
			const deep = `${'{"a":'.repeat(40_000)}1${"}".repeat(40_000)}`;
			const attacker = await connectMqttNode(cloud.mqttUrl, "deep-other");
			nodes.push(attacker);
			await publishAndBeDropped(attacker.client, "node/deep-other/config", deep);
			const list = await fetch(new URL("user/nodes?node_details=true", cloud.httpUrl), {
				headers: {Authorization: token},
			});
			assert.equal(list.status, 200);
			const nested = await fetch(new URL("user/nodes/params", cloud.httpUrl), {
				method: "PUT",
				headers: {Authorization: token},
				body: JSON.stringify([
					{node_id: victim.nodeId, payload: JSON.parse(`${'{"a":'.repeat(2000)}1${"}".repeat(2000)}`)},
				]),
			});
			assert.equal(nested.status, 400);
			assert.match(
				((await nested.json()) as {description: string}).description,
				/request body nests \d+ levels, more than the limit of 32/,
			);
			const shallowButDeep = await fetch(new URL(`user/nodes/params?node_id=${victim.nodeId}`, cloud.httpUrl), {
				method: "PUT",
				headers: {Authorization: token},
				body: JSON.stringify({OTA: JSON.parse(`${'{"a":'.repeat(20)}1${"}".repeat(20)}`)}),
			});
			assert.equal(shallowButDeep.status, 400);
			assert.match(
				((await shallowButDeep.json()) as {description: string}).description,
				/params not written: .*nests \d+ levels, more than the limit of 8/,
			);
		});

		it("finding 4: params that grow by new keys, a config over the size limit and new client ids past the node cap are each refused", async function () {
			cloud = await startCloud({maxNodes: 4});
			const grower = await node("grow-node");
			let refused: string | undefined;
			cloud.events.on("warning", line => (refused ??= /publish on .* refused/.test(line) ? line : undefined));
			const closed = new Promise<string>(resolve => grower.client.once("close", () => resolve("dropped")));
			for (let index = 0; index < 2 * PARAMS_LIMITS.maxKeys; index++) {
				const sent = grower
					.publish("params/local", {[`dev${index}`]: {[`key${index}`]: "v".repeat(16)}})
					.then(() => "acked");
				if ((await Promise.race([sent, closed])) === "dropped") break;
			}
			assert.match(refused ?? "", /params with this change .*(bytes exceeds|keys, more than)/);
			assert.ok(JSON.stringify(cloud.node("grow-node")!.params).length <= PARAMS_LIMITS.maxBytes);
			const big = await connectMqttNode(cloud.mqttUrl, "big-config");
			nodes.push(big);
			await publishAndBeDropped(big.client, "node/big-config/config", {blob: "x".repeat(CONFIG_LIMITS.maxBytes)});
			assert.equal(cloud.node("big-config")?.config, undefined);
			for (let index = 0; index < 3; index++) await node(`many-${index}`);
			const late = await connectMqttNode(cloud.mqttUrl, "many-late");
			nodes.push(late);
			await publishAndBeDropped(late.client, "node/many-late/config", {name: "late"});
			assert.equal(cloud.node("many-late"), undefined);
			assert.equal(cloud.nodes().length, 4);
		});
	});
	describe("login throttling (finding 5)", function () {
		async function attempt(password: string, userName: string = DEFAULT_USER.userName): Promise<Response> {
			return fetch(new URL("login2", cloud.httpUrl), {
				method: "POST",
				body: JSON.stringify({user_name: userName, password}),
			});
		}

		it("answers 429 with Retry-After after five failures per user and per address, doubling the wait; the right password waits too; the wait ends", async function () {
			let clock = 1_000_000;
			cloud = await startCloud({now: () => clock});
			const answers = await Promise.all(Array.from({length: 30}, () => attempt("wrong")));
			const codes = answers.map(answer => answer.status);
			// Five free failures, plus at most one more that was already hashing when the fifth was counted.
			const failures = codes.filter(code => code === 401).length;
			assert.ok(failures >= 5 && failures <= 6, codes.join(" "));
			assert.equal(codes.filter(code => code === 429).length, 30 - failures);
			const limited = answers.find(answer => answer.status === 429)!;
			assert.ok(Number(limited.headers.get("retry-after")) >= 1);
			assert.match(
				((await limited.json()) as {description: string}).description,
				/Too many failed logins for this user or from this address; try again in \d+ s|busy checking other logins/,
			);
			const locked = await attempt(DEFAULT_USER.password);
			assert.equal(locked.status, 429, "the right password waits as well, before any hashing");
			// Another user from another address is not this user's lockout, but this address is throttled too.
			assert.equal((await attempt("x", "nobody@example.com")).status, 429);
			const firstWait = Number(locked.headers.get("retry-after"));
			clock += firstWait * 1000;
			assert.equal((await attempt("still-wrong")).status, 401, "after the wait, one more try");
			const next = await attempt(DEFAULT_USER.password);
			assert.equal(next.status, 429);
			assert.equal(Number(next.headers.get("retry-after")), 2 * firstWait, "the wait doubled");
			clock += 2 * firstWait * 1000;
			assert.equal((await attempt(DEFAULT_USER.password)).status, 200);
			assert.equal((await attempt("wrong again")).status, 401, "a success cleared the count");
		});
	});
	describe("tokens, listeners and passwords (finding 8)", function () {
		it("refuses an access token with characters appended or changed in its last character", async function () {
			cloud = await startCloud();
			const token = await login();
			const user = (value: string) =>
				fetch(new URL("user2", cloud.httpUrl), {headers: {Authorization: value}}).then(
					response => response.status,
				);
			assert.equal(await user(token), 200);
			for (const tampered of [
				`${token}A`,
				`${token}=`,
				`${token}.`,
				`${token}%`,
				`${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`,
				` ${token}x`,
			])
				assert.equal(await user(tampered), 401, tampered.slice(-5));
		});
	});
	describe("the approval binds end to end (finding 7, the cloud's half)", function () {
		it("a cancel withdraws the job at once from each online node it is open for; the node's rejected report closes it", async function () {
			cloud = await startCloud();
			const victim = await node("cancel-node");
			const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
			const job = await cloud.createJob({imageId: image.id, nodes: ["cancel-node", "cancel-offline"]});
			await victim.publish("otafetch", {fw_version: "1.0.0"});
			assert.equal(JSON.parse((await victim.next("otaurl")).payload).ota_job_id, job.id);
			await victim.publish("otastatus", {
				ota_job_id: job.id,
				status: "delayed",
				additional_info: "Waiting for Approval",
			});
			await cloud.waitForStatus("cancel-node", job.id, "delayed");
			cloud.cancelJob(job.id);
			const withdrawal = await victim.next("otaurl");
			assert.deepEqual(JSON.parse(withdrawal.payload), {ota_job_id: job.id, cancelled: true});
			assert.equal(withdrawal.retain, false);
			await victim.publish("otastatus", {
				ota_job_id: job.id,
				status: "rejected",
				additional_info: "Job cancelled by the cloud: offer withdrawn",
			});
			await cloud.waitForStatus("cancel-node", job.id, "rejected");
			assert.equal(cloud.jobState("cancel-node", job.id)?.closed, true);
			await victim.publish("otafetch", {fw_version: "1.0.0"});
			await drain(cloud, victim);
			assert.equal(victim.on("otaurl").length, 2, "served once, withdrawn once, never again");
		});
	});
});
