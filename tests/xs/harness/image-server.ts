/*
 * A plain HTTP server on 127.0.0.1 that streams firmware images to the lane: fixture files as
 * they are, or synthetic images of any size (a real image's first bytes, then filler) made while
 * streaming, so a 4 MB benchmark image never exists in memory on either side.
 */
import {createReadStream, statSync, readFileSync} from "node:fs";
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {Readable} from "node:stream";

export interface ServedImage {
	readonly size: number;
	open(): Readable;
	/** Bytes [start, end) (a stream block), for images that can read at an offset. */
	read?(start: number, end: number): Uint8Array;
}

export function fileImage(path: string): ServedImage {
	return {size: statSync(path).size, open: () => createReadStream(path, {highWaterMark: 16 * 1024})};
}

/** `size` bytes: the first `headerLength` bytes of the image at `headerFrom`, then a repeating filler pattern. */
export function syntheticImage(headerFrom: string, size: number, headerLength = 4096): ServedImage {
	const header = readFileSync(headerFrom).subarray(0, headerLength);
	const filler = Buffer.alloc(16 * 1024, 0x5a);
	return {
		size,
		read(start, end) {
			const bytes = new Uint8Array(end - start).fill(0x5a);
			if (start < header.length) bytes.set(header.subarray(start, Math.min(end, header.length)));
			return bytes;
		},
		open: () =>
			Readable.from(
				(function* () {
					yield header.subarray(0, Math.min(size, header.length));
					for (let at = header.length; at < size; at += filler.length)
						yield filler.subarray(0, Math.min(filler.length, size - at));
				})(),
			),
	};
}

export interface ImageServer {
	/** http://127.0.0.1:<port>/<name> */
	url(name: string): string;
	/** GET requests served, by image name. */
	readonly requests: Map<string, number>;
	close(): Promise<void>;
}

export async function startImageServer(images: {readonly [name: string]: ServedImage}): Promise<ImageServer> {
	const requests = new Map<string, number>();
	const server: Server = createServer((request, response) => {
		const name = decodeURIComponent((request.url ?? "/").slice(1));
		const image = images[name];
		if (request.method !== "GET" || !image) {
			response.writeHead(404, {"content-type": "text/plain"}).end("not found");
			return;
		}
		requests.set(name, (requests.get(name) ?? 0) + 1);
		response.writeHead(200, {"content-type": "application/octet-stream", "content-length": String(image.size)});
		image.open().pipe(response);
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const {port} = server.address() as AddressInfo;
	return {
		url: name => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
		requests,
		close: () =>
			new Promise(resolve => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
