/*
 * Firmware download, as the pre-signed S3 URL of the real cloud: GET (and HEAD) of
 * `/ota/<image id>.bin`, with `Range: bytes=N-` / `bytes=N-M` (206 + Content-Range) for the node's
 * download resumption (docs/protocol.md §5.9), and one-shot faults that tests queue to see how a node copes with a
 * broken download.
 */
import type {StreamAnswer} from "../../ota/stream-protocol";
import {createReadStream} from "node:fs";
import type {IncomingMessage, ServerResponse} from "node:http";
import {Readable, Transform} from "node:stream";
import type {ImageStore, OtaImage} from "./images";

export type DownloadFault =
	/** Send the headers and `afterBytes` bytes of the body, then cut the connection. */
	| {kind: "cut"; afterBytes: number}
	/** Send the headers and `afterBytes` bytes, then send nothing more and keep the connection open. */
	| {kind: "stall"; afterBytes: number}
	/** Answer 302 with the image's real URL as Location (the next request is served normally). */
	| {kind: "redirect"}
	/** Answer with this HTTP status and a short text body. */
	| {kind: "status"; status: number}
	/** Ignore any Range header and send 200 with the whole file. */
	| {kind: "ignore-range"};

export interface QueuedFault {
	fault: DownloadFault;
	/** Only downloads of this image take the fault (default: any image). */
	imageId?: string;
}

/** FIFO of one-shot faults; each download request takes the first fault that matches its image. */
export class DownloadFaults {
	readonly #queue: QueuedFault[] = [];
	/** Stream fault injection: changes the answers to each GetStream request (host/cloud/streams.ts; tests drop, repeat, reorder blocks). */
	stream: ((answers: StreamAnswer[], nodeId: string) => StreamAnswer[]) | undefined;

	/** Queues a fault for the next matching download; `times` queues it that many times. */
	inject(fault: DownloadFault, options: {imageId?: string; times?: number} = {}): void {
		for (let i = 0; i < (options.times ?? 1); i++) this.#queue.push({fault, imageId: options.imageId});
	}

	clear(): void {
		this.#queue.length = 0;
	}

	get pending(): readonly QueuedFault[] {
		return this.#queue;
	}

	/** Removes and returns the fault for a download of `imageId`, if any. */
	take(imageId: string): DownloadFault | undefined {
		const index = this.#queue.findIndex(queued => queued.imageId === undefined || queued.imageId === imageId);
		return index < 0 ? undefined : this.#queue.splice(index, 1)[0]!.fault;
	}
}

export interface DownloadEvent {
	imageId: string;
	/** First byte requested (0 without Range). */
	start: number;
	httpStatus: number;
	fault?: DownloadFault;
}

const downloadPath = /^\/ota\/([A-Za-z0-9_-]+)\.bin$/;

export function imagePath(image: OtaImage): string {
	return `/ota/${image.id}.bin`;
}

type ByteRange = {start: number; end: number};

/** Parses a single-range `bytes=` header. `undefined` = no usable range (serve 200); "unsatisfiable" = 416. */
function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
	if (header === undefined) return undefined;
	const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	// Multiple ranges or another unit: RFC 9110 allows ignoring the header.
	if (!match || (match[1] === "" && match[2] === "")) return undefined;
	if (match[1] === "") {
		// Suffix range: the last N bytes.
		const length = Number(match[2]);
		if (length === 0) return "unsatisfiable";
		return {start: Math.max(0, size - length), end: size - 1};
	}
	const start = Number(match[1]);
	const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
	if (start >= size || end < start) return "unsatisfiable";
	return {start, end};
}

function bodyStream(image: OtaImage, range: ByteRange): Readable {
	if (image.data.kind === "file") return createReadStream(image.data.path, {start: range.start, end: range.end});
	return Readable.from([image.data.bytes.subarray(range.start, range.end + 1)]);
}

/**
 * Handles a request if its path is a download path; returns false otherwise. `absoluteUrl` maps
 * the image to the URL the node was given (used for the redirect fault).
 */
export function handleDownload(
	request: IncomingMessage,
	response: ServerResponse,
	pathname: string,
	images: ImageStore,
	faults: DownloadFaults,
	absoluteUrl: (image: OtaImage) => string,
	onDownload: (event: DownloadEvent) => void,
	bytesPerSecond = 0,
): boolean {
	const match = downloadPath.exec(pathname);
	if (!match) return false;
	const image = images.get(match[1]!);
	const text = (httpStatus: number, body: string, headers: Record<string, string> = {}) => {
		response.writeHead(httpStatus, {
			"Content-Type": "text/plain",
			"Content-Length": String(Buffer.byteLength(body)),
			...headers,
		});
		response.end(request.method === "HEAD" ? undefined : body);
	};
	if (request.method !== "GET" && request.method !== "HEAD") {
		text(405, "method not allowed\n", {Allow: "GET, HEAD"});
		return true;
	}
	if (!image) {
		text(404, "no such image\n");
		return true;
	}
	const fault = faults.take(image.id);
	const size = image.fileSize;
	const range = fault?.kind === "ignore-range" ? undefined : parseRange(request.headers.range, size);
	const report = (httpStatus: number, start: number) =>
		onDownload({imageId: image.id, start, httpStatus, ...(fault ? {fault} : {})});
	if (fault?.kind === "redirect") {
		report(302, 0);
		text(302, "moved\n", {Location: absoluteUrl(image)});
		return true;
	}
	if (fault?.kind === "status") {
		report(fault.status, 0);
		text(fault.status, `injected fault: HTTP ${fault.status}\n`);
		return true;
	}
	if (range === "unsatisfiable") {
		report(416, 0);
		text(416, "range not satisfiable\n", {"Content-Range": `bytes */${size}`});
		return true;
	}
	const served = range ?? {start: 0, end: size - 1};
	const httpStatus = range ? 206 : 200;
	const headers: Record<string, string> = {
		"Content-Type": "application/octet-stream",
		"Content-Length": String(served.end - served.start + 1),
		"Accept-Ranges": "bytes",
	};
	if (range) headers["Content-Range"] = `bytes ${served.start}-${served.end}/${size}`;
	report(httpStatus, served.start);
	response.writeHead(httpStatus, headers);
	if (request.method === "HEAD" || size === 0) {
		response.end();
		return true;
	}
	const body = bodyStream(image, served);
	body.on("error", () => response.destroy());
	if (fault?.kind !== "cut" && fault?.kind !== "stall") {
		(bytesPerSecond > 0 ? body.pipe(throttle(bytesPerSecond)) : body).pipe(response);
		return true;
	}
	// Count the body bytes and stop at the fault's limit.
	let sent = 0;
	const limit = Math.max(0, fault.afterBytes);
	const stop = () => {
		// Stop reading without destroy(): destroying a Readable.from() body emits an error, whose
		// handler above would destroy the response, and its "end" would end it: either turns a stall into a cut.
		body.removeAllListeners("data");
		body.removeAllListeners("end");
		body.removeAllListeners("error");
		body.pause();
		// end(), not destroy(): the bytes already written still reach the client, then the FIN
		// arrives before Content-Length is reached. A stall leaves the connection open; the
		// server destroys it on close().
		if (fault.kind === "cut") response.socket?.end();
	};
	if (limit === 0) {
		response.flushHeaders();
		stop();
		return true;
	}
	body.on("data", (chunk: Buffer) => {
		const room = limit - sent;
		if (chunk.length < room) {
			sent += chunk.length;
			if (!response.write(chunk)) {
				body.pause();
				response.once("drain", () => body.resume());
			}
			return;
		}
		sent = limit;
		body.pause();
		response.write(chunk.subarray(0, room), () => stop());
	});
	body.on("end", () => response.end());
	return true;
}

/** Passes bytes on at about `bytesPerSecond` (a link of a device's speed; 4 KiB slices every few ms). */
export function throttle(bytesPerSecond: number): Transform {
	const slice = 4096;
	const started = Date.now();
	let sent = 0;
	return new Transform({
		transform(chunk: Buffer, _encoding, callback) {
			const push = (at: number) => {
				if (at >= chunk.length) return callback();
				const part = chunk.subarray(at, at + slice);
				sent += part.length;
				this.push(part);
				setTimeout(
					() => push(at + part.length),
					Math.max(0, started + (sent * 1000) / bytesPerSecond - Date.now()),
				);
			};
			push(0);
		},
	});
}
