/*
 * The browser page of the local cloud (docs/web-app.md): `/` serves the page, `/app.js` its script
 * and `/app.css` its style (and `/favicon.svg`, also as `/favicon.ico`), on the same port as the REST API it calls. The script is TypeScript in
 * host/web/app/, bundled in memory with esbuild's JS API (the bundler tsx already brings) once per
 * process, at the start of the cloud command or at the first request for the page: nothing
 * generated is committed and nothing comes from a CDN, so the page works offline.
 */
import {readFile} from "node:fs/promises";
import type {IncomingMessage, ServerResponse} from "node:http";
import {fileURLToPath} from "node:url";

interface Asset {
	type: string;
	body: Buffer;
}

const appDir = fileURLToPath(new URL("./app/", import.meta.url));

let assets: Promise<Map<string, Asset>> | undefined;

async function build(): Promise<Map<string, Asset>> {
	const {build: esbuild} = await import("esbuild");
	const result = await esbuild({
		entryPoints: [appDir + "main.ts"],
		bundle: true,
		write: false,
		format: "iife",
		target: "es2022",
		platform: "browser",
		minify: false,
		sourcemap: false,
		logLevel: "silent",
		legalComments: "none",
	});
	const [html, css, icon] = await Promise.all([
		readFile(appDir + "index.html"),
		readFile(appDir + "app.css"),
		readFile(appDir + "favicon.svg"),
	]);
	return new Map<string, Asset>([
		["/", {type: "text/html; charset=utf-8", body: html}],
		["/index.html", {type: "text/html; charset=utf-8", body: html}],
		["/app.js", {type: "text/javascript; charset=utf-8", body: Buffer.from(result.outputFiles[0]!.contents)}],
		["/app.css", {type: "text/css; charset=utf-8", body: css}],
		// The page links /favicon.svg; browsers and tools that ask for /favicon.ico get the same icon.
		["/favicon.svg", {type: "image/svg+xml", body: icon}],
		["/favicon.ico", {type: "image/svg+xml", body: icon}],
	]);
}

/**
 * Builds the page's files once per process. `rainmaker-ota-xs cloud` and the demo call it at start
 * (the page is ready, a broken build shows at once); a cloud started from code builds it at the
 * first request for the page, so tests that never open it pay nothing.
 */
export function webAssets(): Promise<Map<string, Asset>> {
	assets ??= build().catch((error: unknown) => {
		assets = undefined;
		throw error;
	});
	return assets;
}

const pagePaths = new Set(["/", "/index.html", "/app.js", "/app.css", "/favicon.svg", "/favicon.ico"]);

/** Answers the page's own paths; returns false for anything else (the REST API, downloads). */
export function handleWebPage(request: IncomingMessage, response: ServerResponse, pathname: string): boolean {
	if (!pagePaths.has(pathname) || (request.method !== "GET" && request.method !== "HEAD")) return false;
	webAssets().then(
		files => {
			const asset = files.get(pathname)!;
			response.writeHead(200, {
				"Content-Type": asset.type,
				"Content-Length": String(asset.body.length),
				"Cache-Control": "no-store",
				"X-Content-Type-Options": "nosniff",
				// Only our own script and style; the page talks to nothing but this origin.
				"Content-Security-Policy":
					"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
			});
			response.end(request.method === "HEAD" ? undefined : asset.body);
		},
		(error: Error) => {
			const text = `the web page could not be built: ${error.message}`;
			response.writeHead(500, {
				"Content-Type": "text/plain; charset=utf-8",
				"Content-Length": String(Buffer.byteLength(text)),
			});
			response.end(text);
		},
	);
	return true;
}
