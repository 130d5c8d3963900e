/*
 * Firmware download from the local cloud: whole file, `Range` requests (206 + Content-Range, 416),
 * and each injected fault (cut, stall, redirect, error status, Range ignored).
 */
import assert from "node:assert/strict";
import {get as httpGet, type IncomingHttpHeaders} from "node:http";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import type {OtaImage} from "../host/cloud/images";
import {fixtureBytes, fixtureImage} from "./support/cloud-fixtures";
import {waitUntil} from "./support/wait";

interface Download {
	status: number;
	headers: IncomingHttpHeaders;
	body: Buffer;
	/** The body arrived up to its Content-Length. */
	complete: boolean;
}

/** GET with node:http (no redirect following); resolves when the response closes, complete or not. */
function download(url: string, headers: Record<string, string> = {}): Promise<Download> {
	return new Promise((resolve, reject) => {
		httpGet(url, {headers}, response => {
			const chunks: Buffer[] = [];
			response.on("data", (chunk: Buffer) => chunks.push(chunk));
			response.on("error", () => {});
			response.on("close", () =>
				resolve({
					status: response.statusCode!,
					headers: response.headers,
					body: Buffer.concat(chunks),
					complete: response.complete,
				}),
			);
		}).on("error", reject);
	});
}

describe("local cloud: firmware download", function () {
	let cloud: Cloud;
	let image: OtaImage;
	const bytes = fixtureBytes("synthetic/app-2.0.0.bin");

	beforeEach(async function () {
		cloud = await startCloud();
		image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
	});

	afterEach(async function () {
		await cloud.close();
	});

	it("serves the whole file with Content-Length and Accept-Ranges", async function () {
		const result = await download(cloud.imageUrl(image));
		assert.equal(result.status, 200);
		assert.equal(result.headers["content-length"], String(bytes.length));
		assert.equal(result.headers["accept-ranges"], "bytes");
		assert.ok(result.complete);
		assert.deepEqual(result.body, bytes);
	});

	it("serves an image added as bytes the same way", async function () {
		const fromBytes = await cloud.addImage(new Uint8Array(bytes), "upload.bin");
		assert.equal(fromBytes.fileMd5, image.fileMd5);
		const result = await download(cloud.imageUrl(fromBytes), {Range: "bytes=69000-"});
		assert.equal(result.status, 206);
		assert.deepEqual(result.body, bytes.subarray(69000));
	});

	it("answers Range: bytes=N- with 206 and Content-Range, and bytes=N-M with that slice", async function () {
		const from = await download(cloud.imageUrl(image), {Range: "bytes=1000-"});
		assert.equal(from.status, 206);
		assert.equal(from.headers["content-range"], `bytes 1000-${bytes.length - 1}/${bytes.length}`);
		assert.equal(from.headers["content-length"], String(bytes.length - 1000));
		assert.deepEqual(from.body, bytes.subarray(1000));
		const slice = await download(cloud.imageUrl(image), {Range: "bytes=10-19"});
		assert.equal(slice.headers["content-range"], `bytes 10-19/${bytes.length}`);
		assert.deepEqual(slice.body, bytes.subarray(10, 20));
		const suffix = await download(cloud.imageUrl(image), {Range: "bytes=-32"});
		assert.deepEqual(suffix.body, bytes.subarray(bytes.length - 32));
	});

	it("answers an unsatisfiable range with 416, and serves 200 for a multi-range request", async function () {
		const beyond = await download(cloud.imageUrl(image), {Range: `bytes=${bytes.length}-`});
		assert.equal(beyond.status, 416);
		assert.equal(beyond.headers["content-range"], `bytes */${bytes.length}`);
		const multi = await download(cloud.imageUrl(image), {Range: "bytes=0-1,5-6"});
		assert.equal(multi.status, 200);
		assert.equal(multi.body.length, bytes.length);
	});

	it("answers 404 for an unknown image and 405 for other methods", async function () {
		assert.equal((await download(cloud.downloadBaseUrl + "img_000000000000.bin")).status, 404);
		const post = await fetch(cloud.imageUrl(image), {method: "POST"});
		assert.equal(post.status, 405);
		assert.equal(post.headers.get("allow"), "GET, HEAD");
	});

	it("fault cut: sends exactly N body bytes, then closes the connection", async function () {
		cloud.faults.inject({kind: "cut", afterBytes: 5000});
		const cut = await download(cloud.imageUrl(image));
		assert.equal(cut.status, 200);
		assert.equal(cut.complete, false);
		assert.deepEqual(cut.body, bytes.subarray(0, 5000));
		// One-shot: the resumed request gets the rest.
		const resumed = await download(cloud.imageUrl(image), {Range: "bytes=5000-"});
		assert.ok(resumed.complete);
		assert.deepEqual(Buffer.concat([cut.body, resumed.body]), bytes);
	});

	it("fault cut after 0 bytes and within a ranged response", async function () {
		cloud.faults.inject({kind: "cut", afterBytes: 0});
		cloud.faults.inject({kind: "cut", afterBytes: 100});
		const none = await download(cloud.imageUrl(image));
		assert.equal(none.status, 200);
		assert.equal(none.body.length, 0);
		assert.equal(none.complete, false);
		const ranged = await download(cloud.imageUrl(image), {Range: "bytes=60000-"});
		assert.equal(ranged.status, 206);
		assert.deepEqual(ranged.body, bytes.subarray(60000, 60100));
		assert.equal(ranged.complete, false);
	});

	it("fault stall: sends N bytes, then nothing while the connection stays open", async function () {
		cloud.faults.inject({kind: "stall", afterBytes: 3000});
		const received: Buffer[] = [];
		let closed = false;
		const request = httpGet(cloud.imageUrl(image), response => {
			response.on("data", (chunk: Buffer) => received.push(chunk));
			response.on("error", () => {});
			response.on("close", () => (closed = true));
		});
		request.on("error", () => {});
		await waitUntil(() => Buffer.concat(received).length >= 3000, "3000 bytes");
		// No sleep: a whole request/answer on a second connection runs through the server's event loop after it
		// wrote the 3000 bytes; any further bytes, or the FIN of a cut, were sent before that answer and seen first.
		const probe = await download(cloud.imageUrl(image), {Range: "bytes=0-0"});
		assert.deepEqual([probe.status, probe.body], [206, bytes.subarray(0, 1)]);
		await new Promise(resolve => setImmediate(resolve));
		assert.deepEqual(Buffer.concat(received), bytes.subarray(0, 3000));
		assert.equal(closed, false);
		request.destroy();
		// close() must not hang on the stalled connection.
	});

	it("fault redirect: 302 to the image's URL, which then serves the file", async function () {
		cloud.faults.inject({kind: "redirect"});
		const moved = await download(cloud.imageUrl(image));
		assert.equal(moved.status, 302);
		assert.equal(moved.headers.location, cloud.imageUrl(image));
		const followed = await fetch(cloud.imageUrl(image), {redirect: "manual"});
		assert.equal(followed.status, 200);
		cloud.faults.inject({kind: "redirect"});
		const viaFetch = await fetch(cloud.imageUrl(image));
		assert.ok(viaFetch.redirected);
		assert.deepEqual(Buffer.from(await viaFetch.arrayBuffer()), bytes);
	});

	it("fault status: answers 404 or 500 once", async function () {
		cloud.faults.inject({kind: "status", status: 500});
		cloud.faults.inject({kind: "status", status: 404});
		assert.equal((await download(cloud.imageUrl(image))).status, 500);
		assert.equal((await download(cloud.imageUrl(image))).status, 404);
		assert.equal((await download(cloud.imageUrl(image))).status, 200);
		assert.equal(cloud.faults.pending.length, 0);
	});

	it("fault ignore-range: 200 with the whole file despite Range", async function () {
		cloud.faults.inject({kind: "ignore-range"});
		const result = await download(cloud.imageUrl(image), {Range: "bytes=1000-"});
		assert.equal(result.status, 200);
		assert.equal(result.headers["content-range"], undefined);
		assert.deepEqual(result.body, bytes);
	});

	it("applies a fault only to its image, the given number of times, and reports every download", async function () {
		const other = await cloud.addImage(fixtureImage("synthetic/app-1.1.0.bin"));
		cloud.faults.inject({kind: "status", status: 500}, {imageId: other.id, times: 2});
		const events: string[] = [];
		cloud.events.on("download", event =>
			events.push(
				`${event.imageId === other.id ? "other" : "image"} ${event.httpStatus} ${event.start}${event.fault ? ` ${event.fault.kind}` : ""}`,
			),
		);
		assert.equal((await download(cloud.imageUrl(image))).status, 200);
		assert.equal((await download(cloud.imageUrl(other))).status, 500);
		assert.equal((await download(cloud.imageUrl(other), {Range: "bytes=7-"})).status, 500);
		assert.equal((await download(cloud.imageUrl(other), {Range: "bytes=7-"})).status, 206);
		assert.deepEqual(events, ["image 200 0", "other 500 0 status", "other 500 0 status", "other 206 7"]);
		cloud.faults.inject({kind: "redirect"});
		cloud.faults.clear();
		assert.equal(cloud.faults.pending.length, 0);
	});
});
