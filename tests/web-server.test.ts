/*
 * The cloud serves its web page (docs/web-app.md) next to the REST API: the page, its bundled
 * script and its style with the right types and a same-origin-only Content-Security-Policy; every
 * other path still reaches the REST API and the downloads.
 */
import assert from "node:assert/strict";
import {startCloud, type Cloud} from "../host/cloud/cloud";

describe("web page: served by the cloud", function () {
	this.timeout(30_000);
	let cloud: Cloud;
	before(async () => {
		cloud = await startCloud();
	});
	after(async () => {
		await cloud?.close();
	});

	const get = (path: string, method = "GET") => fetch(new URL(path, cloud.httpUrl), {method});

	it("serves /, /app.js and /app.css from its own origin only", async () => {
		const page = await get("/");
		assert.equal(page.status, 200);
		assert.match(page.headers.get("content-type")!, /^text\/html/);
		assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
		const html = await page.text();
		assert.match(html, /<script src="\/app\.js" defer><\/script>/);
		assert.match(html, /<link rel="stylesheet" href="\/app\.css" ?\/?>/);
		const script = await get("/app.js");
		assert.equal(script.status, 200);
		assert.match(script.headers.get("content-type")!, /^text\/javascript/);
		const code = await script.text();
		// Bundled: no module imports left, and the image header parser came along for the upload facts.
		assert.doesNotMatch(code, /^\s*import\s/m);
		assert.match(code, /Not an ESP32 application image/);
		assert.doesNotMatch(code, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, "no address of another site in the script");
		const style = await get("/app.css");
		assert.match(style.headers.get("content-type")!, /^text\/css/);
		assert.match(await style.text(), /:focus-visible/);
		const head = await get("/", "HEAD");
		assert.equal(head.status, 200);
		assert.equal(await head.text(), "");
	});

	it("serves the page's icon at /favicon.svg and at /favicon.ico (no 404 in the browser's console)", async () => {
		const html = await (await get("/")).text();
		assert.match(html, /<link rel="icon" href="\/favicon\.svg" type="image\/svg\+xml" ?\/?>/);
		for (const path of ["/favicon.svg", "/favicon.ico"]) {
			const icon = await get(path);
			assert.equal(icon.status, 200, path);
			assert.equal(icon.headers.get("content-type"), "image/svg+xml", path);
			assert.match(await icon.text(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, path);
		}
	});

	it("leaves every other path to the REST API and the downloads", async () => {
		const login = await fetch(new URL("login2", cloud.httpUrl), {method: "POST", body: "{}"});
		assert.equal(login.status, 400);
		assert.equal(((await login.json()) as {status: string}).status, "failure");
		const unknown = await get("/favicon.png");
		assert.equal(unknown.status, 404);
		assert.equal(((await unknown.json()) as {status: string}).status, "failure");
		const post = await get("/", "POST");
		assert.equal(post.status, 404, "POST / is not the page");
	});
});
