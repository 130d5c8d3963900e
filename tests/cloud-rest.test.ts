/*
 * The local cloud's REST API (docs/protocol.md §9): response shapes of the user and admin calls, and bad requests
 * answered with the right HTTP status and `{"status":"failure","description"}` without harming
 * the cloud.
 */
import assert from "node:assert/strict";
import {request as httpRequest} from "node:http";
import {startCloud, type Cloud, type CloudOptions} from "../host/cloud/cloud";
import {announce, fixtureBytes} from "./support/cloud-fixtures";
import {authorization} from "./support/cloud-login";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

interface Answer {
	status: number;
	body: unknown;
	headers: Headers;
}

describe("local cloud: REST API", function () {
	let cloud: Cloud;
	const nodes: MqttNode[] = [];

	async function start(options: CloudOptions = {}): Promise<void> {
		cloud = await startCloud(options);
	}

	/** A REST call as the logged-in default user, unless `headers` brings its own Authorization (or `{}` for none: `anonymous`). */
	async function call(
		method: string,
		path: string,
		body?: unknown,
		headers?: Record<string, string>,
	): Promise<Answer> {
		const response = await fetch(new URL(path, cloud.httpUrl), {
			method,
			headers: headers ?? (await authorization(cloud)),
			...(body !== undefined ? {body: typeof body === "string" ? body : JSON.stringify(body)} : {}),
		});
		const text = await response.text();
		return {status: response.status, body: JSON.parse(text), headers: response.headers};
	}

	function assertFailure(answer: Answer, status: number, description: RegExp): void {
		assert.equal(answer.status, status, JSON.stringify(answer.body));
		const body = answer.body as {status?: unknown; description?: unknown};
		assert.equal(body.status, "failure");
		assert.match(String(body.description), description);
	}

	async function node(nodeId: string): Promise<MqttNode> {
		const connected = await connectMqttNode(cloud.mqttUrl, nodeId);
		nodes.push(connected);
		await announce(connected);
		return connected;
	}

	async function uploadImage(relative = "synthetic/app-2.0.0.bin"): Promise<string> {
		const answer = await call("POST", "admin/otaimage", {
			image_name: "app",
			base64_fwimage: fixtureBytes(relative).toString("base64"),
		});
		assert.equal(answer.status, 200, JSON.stringify(answer.body));
		return (answer.body as {ota_image_id: string}).ota_image_id;
	}

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(mqttNode => mqttNode.close()));
		await cloud?.close();
	});

	it("GET user/nodes/config and params with node_id or nodeid; params merged from init and changes", async function () {
		await start();
		const n1 = await node("rest-a");
		const config = await call("GET", "user/nodes/config?node_id=rest-a");
		assert.equal(config.status, 200);
		assert.equal((config.body as {services: {type: string}[]}).services[0]!.type, "esp.service.ota");
		assert.deepEqual((await call("GET", "user/nodes/config?nodeid=rest-a")).body, config.body);
		const changed = cloud.waitFor("params", event => !event.init);
		await n1.publish("params/local", {OTA: {Info: {job_id: "job_1", fw_version: "2.0.0"}}});
		await changed;
		const params = await call("GET", "user/nodes/params?nodeid=rest-a");
		assert.deepEqual(params.body, {OTA: {Operation: "", Info: {job_id: "job_1", fw_version: "2.0.0"}}});
		assertFailure(await call("GET", "user/nodes/config?node_id=nobody"), 404, /nobody not found/);
		assertFailure(await call("GET", "user/nodes/params"), 400, /"node_id" is required/);
	});

	it("GET user/nodes lists online nodes, mapped nodes and nodes a job names; a node nothing names drops when it goes offline", async function () {
		await start();
		const listed = async () => ((await call("GET", "user/nodes")).body as {nodes: string[]}).nodes;
		const typo = await node("my-nod");
		const real = await node("my-node");
		await cloud.createJob({
			imageId: (await cloud.addImage(fixtureBytes("synthetic/app-2.0.0.bin"))).id,
			nodes: ["my-node"],
		});
		assert.deepEqual(await listed(), ["my-nod", "my-node"], "both online");
		const offline = (nodeId: string) => cloud.waitFor("offline", id => id === nodeId, 10_000);
		let gone = offline("my-nod");
		await typo.close();
		await gone;
		assert.deepEqual(await listed(), ["my-node"], "the mistyped id, offline and named by nothing, is not listed");
		gone = offline("my-node");
		await real.close();
		await gone;
		assert.deepEqual(await listed(), ["my-node"], "a node a job names stays listed offline");
	});

	it("PUT user/nodes/params: the array form publishes each payload on params/remote and answers per node", async function () {
		await start();
		const n1 = await node("rest-b");
		const answer = await call("PUT", "user/nodes/params", [
			{node_id: "rest-b", payload: {OTA: {Operation: "check"}}},
			{node_id: "ghost", payload: {OTA: {Operation: "check"}}},
			{node_id: "rest-b", payload: "not an object"},
			42,
		]);
		assert.equal(answer.status, 200);
		assert.deepEqual(answer.body, [
			{node_id: "rest-b", status: "success", description: "Successfully set params"},
			{node_id: "ghost", status: "failure", description: "node ghost not found"},
			{node_id: "rest-b", status: "failure", description: "payload must be a JSON object"},
			{
				node_id: null,
				status: "failure",
				description: "each entry must be an object with a non-empty node_id string",
			},
		]);
		const remote = await n1.next("params/remote");
		assert.deepEqual(JSON.parse(remote.payload), {OTA: {Operation: "check"}});
		assert.equal(remote.qos, 1);
		// The cloud keeps the last value written (docs/protocol.md §2.3).
		assert.equal(
			((await call("GET", "user/nodes/params?node_id=rest-b")).body as {OTA: {Operation: string}}).OTA.Operation,
			"check",
		);
	});

	it("PUT user/nodes/params: the legacy form with ?node_id= and the payload as body", async function () {
		await start();
		const n1 = await node("rest-c");
		const answer = await call("PUT", "user/nodes/params?node_id=rest-c", {OTA: {Operation: "start"}});
		assert.equal(answer.status, 200);
		assert.deepEqual(answer.body, {status: "success", description: "Successfully set params"});
		assert.deepEqual(JSON.parse((await n1.next("params/remote")).payload), {OTA: {Operation: "start"}});
		assertFailure(
			await call("PUT", "user/nodes/params", {OTA: {Operation: "start"}}),
			400,
			/array of \{node_id, payload\}/,
		);
		assertFailure(await call("PUT", "user/nodes/params?node_id=rest-c", [1].slice(1)), 400, /empty/);
		assertFailure(await call("PUT", "user/nodes/params?node_id=rest-c", '"text"'), 400, /must be a JSON object/);
		assertFailure(await call("PUT", "user/nodes/params?node_id=ghost", {OTA: {}}), 404, /not found/);
	});

	it("PUT user/nodes/params to an offline node fails with Node is offline", async function () {
		await start();
		const n1 = await node("rest-d");
		const offline = cloud.waitFor("offline");
		await n1.close();
		nodes.length = 0;
		await offline;
		assertFailure(
			await call("PUT", "user/nodes/params?node_id=rest-d", {OTA: {Operation: "check"}}),
			400,
			/^Node is offline$/,
		);
	});

	it("admin otaimage, otajob and otajob/status; GET user/nodes/ota_status with the node's status strings", async function () {
		await start();
		const n1 = await node("rest-e");
		const bytes = fixtureBytes("synthetic/app-2.0.0.bin");
		const upload = await call("POST", "admin/otaimage", {
			image_name: "my image",
			base64_fwimage: bytes.toString("base64"),
			type: "app",
		});
		assert.equal(upload.status, 200);
		const uploaded = upload.body as Record<string, unknown>;
		assert.equal(uploaded.status, "success");
		assert.match(String(uploaded.ota_image_id), /^img_/);
		const image = cloud.image(String(uploaded.ota_image_id))!;
		assert.equal(uploaded.image_url, cloud.imageUrl(image));
		assert.deepEqual(
			[image.name, image.fwVersion, image.model, image.type, image.fileSize],
			["my image", "2.0.0", "rainmaker-ota-xs", "app", bytes.length],
		);
		const download = await fetch(String(uploaded.image_url));
		assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);

		const created = await call("POST", "admin/otajob?force_push=false&user_approval=false", {
			ota_job_name: "first",
			ota_image_id: uploaded.ota_image_id,
			nodes: ["rest-e", "rest-other"],
			metadata: {validity: {start: 1, end: 2}},
		});
		assert.equal(created.status, 200);
		const jobId = (created.body as {ota_job_id: string}).ota_job_id;
		assert.deepEqual(created.body, {ota_job_id: jobId, status: "success"});
		assert.equal(cloud.job(jobId)?.name, "first");

		const triggered = await call("GET", `user/nodes/ota_status?node_id=rest-e&ota_job_id=${jobId}`);
		assert.equal(triggered.status, 200);
		assert.equal((triggered.body as {status: string}).status, "triggered");

		const fetched = cloud.waitFor("otaurl");
		await n1.publish("otafetch", {node_id: "rest-e", fw_version: "1.0.0"});
		assert.deepEqual((await fetched).payload.metadata, {validity: {start: 1, end: 2}});
		const recorded = cloud.waitFor("status");
		await n1.publish("otastatus", {
			ota_job_id: jobId,
			status: "in-progress",
			additional_info: "Downloaded 40% Firmware Image",
			ts: 99,
		});
		const report = await recorded;
		const status = await call("GET", `user/nodes/ota_status?node_id=rest-e&ota_job_id=${jobId}`);
		assert.deepEqual(status.body, {
			node_id: "rest-e",
			status: "in-progress",
			additional_info: "Downloaded 40% Firmware Image",
			timestamp: Math.floor(report.receivedAt / 1000),
		});

		const jobStatus = await call("GET", `admin/otajob/status?ota_job_id=${jobId}`);
		assert.deepEqual(jobStatus.body, {
			node_ota_status: [
				{
					node_id: "rest-e",
					status: "in-progress",
					timestamp: Math.floor(report.receivedAt / 1000),
					additional_info: "Downloaded 40% Firmware Image",
				},
				{
					node_id: "rest-other",
					status: "triggered",
					timestamp: Math.floor(cloud.job(jobId)!.createdAt / 1000),
					additional_info: "",
				},
			],
			total: 2,
		});
		assert.equal(
			((await call("GET", `admin/otajob/status?ota_job_id=${jobId}&node_id=rest-other`)).body as {total: number})
				.total,
			1,
		);

		assertFailure(await call("GET", "user/nodes/ota_status?node_id=rest-e"), 400, /"ota_job_id" is required/);
		assertFailure(await call("GET", "user/nodes/ota_status?ota_job_id=x"), 400, /"node_id" is required/);
		assertFailure(
			await call("GET", "user/nodes/ota_status?node_id=rest-e&ota_job_id=job_none"),
			404,
			/job_none not found/,
		);
		assertFailure(
			await call("GET", `user/nodes/ota_status?node_id=stranger&ota_job_id=${jobId}`),
			404,
			/not part of/,
		);
		assertFailure(await call("GET", "admin/otajob/status?ota_job_id=job_none"), 404, /not found/);

		const cancelled = await call("PUT", "admin/otajob", {ota_job_id: jobId, archive: true});
		assert.equal(cancelled.status, 200);
		assert.equal(cloud.job(jobId)?.cancelled, true);
	});

	it("admin otaimage: fw_version and model overrides; a non-image, bad base64 or missing fields get a 400", async function () {
		await start();
		const bytes = fixtureBytes("synthetic/app-1.1.0.bin");
		const upload = await call("POST", "admin/otaimage", {
			image_name: "x",
			base64_fwimage: bytes.toString("base64"),
			fw_version: "1.1.0-custom",
			model: "m",
		});
		const image = cloud.image((upload.body as {ota_image_id: string}).ota_image_id)!;
		assert.deepEqual([image.fwVersion, image.model, image.projectName], ["1.1.0-custom", "m", "rainmaker-ota-xs"]);
		assertFailure(
			await call("POST", "admin/otaimage", {
				image_name: "x",
				base64_fwimage: Buffer.from("hello, not firmware").toString("base64"),
			}),
			400,
			/invalid firmware image: Not an ESP32 application image/,
		);
		assertFailure(
			await call("POST", "admin/otaimage", {
				image_name: "x",
				base64_fwimage: bytes.subarray(0, 100).toString("base64"),
			}),
			400,
			/too short/,
		);
		assertFailure(
			await call("POST", "admin/otaimage", {image_name: "x", base64_fwimage: "***"}),
			400,
			/not valid base64/,
		);
		assertFailure(
			await call("POST", "admin/otaimage", {base64_fwimage: "AAAA"}),
			400,
			/"image_name" must be a non-empty string/,
		);
		assertFailure(
			await call("POST", "admin/otaimage", {image_name: "x", base64_fwimage: 12}),
			400,
			/"base64_fwimage"/,
		);
		assertFailure(
			await call("POST", "admin/otaimage", {image_name: "x", base64_fwimage: "AAAA", fw_version: 2}),
			400,
			/"fw_version"/,
		);
		assert.equal(cloud.jobs().length, 0);
	});

	it("admin otajob: bad bodies and query flags get 400, an unknown image 404", async function () {
		await start();
		const imageId = await uploadImage();
		assertFailure(
			await call("POST", "admin/otajob", {ota_job_name: "j", ota_image_id: "img_none", nodes: ["a"]}),
			404,
			/img_none not found/,
		);
		assertFailure(
			await call("POST", "admin/otajob", {ota_job_name: "j", ota_image_id: imageId, nodes: []}),
			400,
			/"nodes"/,
		);
		assertFailure(
			await call("POST", "admin/otajob", {ota_job_name: "j", ota_image_id: imageId, nodes: "a"}),
			400,
			/"nodes"/,
		);
		assertFailure(
			await call("POST", "admin/otajob", {ota_job_name: "j", ota_image_id: imageId, nodes: [1]}),
			400,
			/"nodes"/,
		);
		assertFailure(
			await call("POST", "admin/otajob", {
				ota_job_name: "j",
				ota_image_id: imageId,
				nodes: Array.from({length: 101}, (_, i) => `n${i}`),
			}),
			400,
			/1\.\.100/,
		);
		assertFailure(
			await call("POST", "admin/otajob", {ota_job_name: "j", ota_image_id: imageId, groups: ["FFFF-FFFF"]}),
			400,
			/groups/,
		);
		assertFailure(
			await call("POST", "admin/otajob", {ota_job_name: "j", ota_image_id: imageId, nodes: ["a"], metadata: [1]}),
			400,
			/"metadata"/,
		);
		assertFailure(await call("POST", "admin/otajob", {ota_image_id: imageId, nodes: ["a"]}), 400, /"ota_job_name"/);
		assertFailure(
			await call("POST", "admin/otajob?force_push=maybe", {
				ota_job_name: "j",
				ota_image_id: imageId,
				nodes: ["a"],
			}),
			400,
			/force_push/,
		);
		assertFailure(await call("PUT", "admin/otajob", {ota_job_id: "job_none"}), 404, /not found/);
		assert.equal(cloud.jobs().length, 0);
		const created = await call("POST", "admin/otajob?user_approval=true&force_push=1", {
			ota_job_name: "j",
			ota_image_id: imageId,
			nodes: ["a"],
		});
		const job = cloud.job((created.body as {ota_job_id: string}).ota_job_id)!;
		assert.deepEqual([job.userApproval, job.forcePush], [true, true]);
	});

	it("POST user/nodes/ota_update: unknown job 404, node not in job 404, finished job 400, bad body 400", async function () {
		await start();
		const n1 = await node("rest-f");
		const imageId = await uploadImage();
		const job = await cloud.createJob({imageId, nodes: ["rest-f"], userApproval: true});
		assertFailure(
			await call("POST", "user/nodes/ota_update", {ota_job_id: "job_none", node_id: "rest-f"}),
			404,
			/not found/,
		);
		assertFailure(
			await call("POST", "user/nodes/ota_update", {ota_job_id: job.id, node_id: "other"}),
			404,
			/not found/,
		);
		assertFailure(await call("POST", "user/nodes/ota_update", {ota_job_id: job.id}), 400, /"node_id"/);
		assertFailure(await call("POST", "user/nodes/ota_update", [job.id]), 400, /must be a JSON object/);
		const rejected = cloud.waitFor("status");
		await n1.publish("otastatus", {
			ota_job_id: job.id,
			status: "rejected",
			additional_info: "Same version received",
		});
		await rejected;
		assertFailure(
			await call("POST", "user/nodes/ota_update", {ota_job_id: job.id, node_id: "rest-f"}),
			400,
			/no longer open/,
		);
		assertFailure(await call("GET", "user/nodes/ota_update?node_id=ghost"), 404, /not found/);
		assert.deepEqual((await call("GET", "user/nodes/ota_update?node_id=rest-f")).body, {
			status: "success",
			ota_available: false,
			description: "No OTA update available",
		});
	});

	it("answers malformed JSON, unknown paths and wrong methods with JSON errors, and keeps serving", async function () {
		await start();
		await node("rest-g");
		assertFailure(await call("PUT", "user/nodes/params", '{"node_id": '), 400, /not valid JSON/);
		assertFailure(await call("PUT", "user/nodes/params", ""), 400, /empty/);
		assertFailure(await call("POST", "admin/otajob", "null"), 400, /must be a JSON object/);
		assertFailure(await call("GET", "user/nodes/nothing"), 404, /no such API/);
		assertFailure(await call("GET", "v2/user/nodes/params"), 404, /no such API/);
		const wrongMethod = await call("DELETE", "user/nodes/params?node_id=rest-g");
		assertFailure(wrongMethod, 405, /not allowed/);
		assert.equal(wrongMethod.headers.get("allow"), "GET, PUT");
		assertFailure(await call("PATCH", "admin/otaimage"), 405, /not allowed/);
		assert.equal((await call("GET", "user/nodes/params?node_id=rest-g")).status, 200);
	});

	it("GET admin/otaimage and admin/otajob list the image and job records (the web page's admin side and history)", async function () {
		await start();
		await node("rest-list");
		const imageId = await uploadImage();
		const created = await call("POST", "admin/otajob?user_approval=true", {
			ota_job_name: "listed",
			ota_image_id: imageId,
			nodes: ["rest-list"],
		});
		const jobId = (created.body as {ota_job_id: string}).ota_job_id;
		const images = (await call("GET", "admin/otaimage")).body as {
			ota_images: Record<string, unknown>[];
			total: number;
		};
		assert.equal(images.total, 1);
		assert.deepEqual(Object.keys(images.ota_images[0]!).sort(), [
			"file_md5",
			"file_size",
			"fw_version",
			"image_name",
			"image_url",
			"model",
			"ota_image_id",
			"type",
			"upload_timestamp",
		]);
		assert.equal(images.ota_images[0]!.ota_image_id, imageId);
		assert.equal(images.ota_images[0]!.fw_version, "2.0.0");
		const jobs = (await call("GET", "admin/otajob")).body as {ota_jobs: Record<string, unknown>[]; total: number};
		assert.equal(jobs.total, 1);
		assert.equal(jobs.ota_jobs[0]!.ota_job_id, jobId);
		assert.equal(jobs.ota_jobs[0]!.ota_job_name, "listed");
		assert.equal(jobs.ota_jobs[0]!.ota_image_id, imageId);
		assert.deepEqual(jobs.ota_jobs[0]!.nodes, ["rest-list"]);
		assert.equal(jobs.ota_jobs[0]!.user_approval, true);
		assert.equal(typeof jobs.ota_jobs[0]!.triggered_timestamp, "number");
		assert.equal(((await call("GET", `admin/otajob?ota_job_id=${jobId}`)).body as {total: number}).total, 1);
		assertFailure(await call("GET", "admin/otajob?ota_job_id=job_nope"), 404, /job_nope not found/);
		assertFailure(await call("GET", "admin/otaimage?ota_image_id=img_nope"), 404, /img_nope not found/);
	});

	it("refuses bodies over the limit with 413, whether announced by Content-Length or streamed", async function () {
		await start({maxBodyBytes: 1000, maxImageBodyBytes: 2000});
		await node("rest-h");
		assertFailure(
			await call("PUT", "user/nodes/params?node_id=rest-h", {OTA: {Info: "x".repeat(2000)}}),
			413,
			/exceeds the limit of 1000 bytes/,
		);
		assertFailure(
			await call("POST", "admin/otaimage", {image_name: "x", base64_fwimage: "A".repeat(4000)}),
			413,
			/limit of 2000 bytes/,
		);
		// Chunked, with no Content-Length: refused once 1000 bytes have been read.
		const headers = await authorization(cloud);
		const streamed = await new Promise<{status: number; body: string}>((resolve, reject) => {
			const request = httpRequest(
				new URL("user/nodes/params?node_id=rest-h", cloud.httpUrl),
				{method: "PUT", headers},
				response => {
					let body = "";
					response.on("data", (chunk: Buffer) => (body += chunk.toString()));
					response.on("end", () => resolve({status: response.statusCode!, body}));
				},
			);
			request.on("error", reject);
			request.write('{"OTA":{"Info":"');
			request.write("y".repeat(1500));
			// The request is never finished; the cloud answers anyway.
		});
		assert.equal(streamed.status, 413);
		assert.match(JSON.parse(streamed.body).description, /exceeds the limit/);
		assert.equal((await call("GET", "user/nodes/params?node_id=rest-h")).status, 200);
	});

	it("requires a login2 access token on user and admin calls (401 otherwise)", async function () {
		await start();
		assertFailure(await call("GET", "user/nodes/params?node_id=x", undefined, {}), 401, /Unauthorized/);
		assertFailure(
			await call("GET", "user/nodes/params?node_id=x", undefined, {Authorization: "wrong"}),
			401,
			/Unauthorized/,
		);
		assertFailure(await call("POST", "admin/otajob", {}, {}), 401, /Unauthorized/);
		assertFailure(await call("GET", "user/nodes/params?node_id=x"), 404, /not found/);
	});
});
