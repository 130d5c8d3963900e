/*
 * The cloud's OTA image records (docs/protocol.md §9.2 image record): the facts come from the image itself
 * through the firmware's own header parser, so the cloud and the node read a file the same way.
 * Images added from a path stay on disk and are streamed from there; images uploaded as bytes are
 * kept in memory (they arrived in memory anyway, and are at most a few MB).
 */
import {createHash, randomBytes} from "node:crypto";
import {readFile} from "node:fs/promises";
import {basename} from "node:path";
import {parseImageHeader} from "../../ota/image";

export type ImageData = {kind: "file"; path: string} | {kind: "bytes"; bytes: Buffer};

export interface OtaImage {
	id: string;
	name: string;
	fwVersion: string;
	model: string;
	type: string;
	fileSize: number;
	/** Hex MD5 of the whole file (the node uses it only as a resume key, docs/protocol.md §4.2). */
	fileMd5: string;
	/** Facts read from the image header. */
	projectName: string;
	chipId: number;
	secureVersion: number;
	uploadTimestamp: number;
	data: ImageData;
}

export interface AddImageOptions {
	name?: string;
	/** Override the version read from the image (the admin API allows it). */
	fwVersion?: string;
	/** Override the model (default: the image's project name). */
	model?: string;
	type?: string;
}

/** The bytes are not an ESP32 application image the parser accepts. */
export class InvalidImageError extends Error {}

export class ImageStore {
	readonly #images = new Map<string, OtaImage>();

	readonly #now: () => number;

	constructor(now: () => number) {
		this.#now = now;
	}

	/** Adds an image from a file path or from bytes; throws InvalidImageError for a non-image. */
	async add(source: string | Uint8Array, options: AddImageOptions = {}): Promise<OtaImage> {
		const bytes =
			typeof source === "string"
				? await readFile(source)
				: Buffer.from(source.buffer, source.byteOffset, source.byteLength);
		let info: ReturnType<typeof parseImageHeader>;
		try {
			info = parseImageHeader(bytes);
		} catch (error) {
			throw new InvalidImageError(`invalid firmware image: ${(error as Error).message}`);
		}
		const id = `img_${randomBytes(6).toString("hex")}`;
		const image: OtaImage = {
			id,
			name:
				options.name ??
				(typeof source === "string" ? basename(source) : `${info.projectName}-${info.version}.bin`),
			fwVersion: options.fwVersion ?? info.version,
			model: options.model ?? info.projectName,
			type: options.type ?? info.projectName,
			fileSize: bytes.length,
			fileMd5: createHash("md5").update(bytes).digest("hex"),
			projectName: info.projectName,
			chipId: info.chipId,
			secureVersion: info.secureVersion,
			uploadTimestamp: Math.floor(this.#now() / 1000),
			// A copy: the caller may reuse its buffer.
			data:
				typeof source === "string" ? {kind: "file", path: source} : {kind: "bytes", bytes: Buffer.from(bytes)},
		};
		this.#images.set(id, image);
		return image;
	}

	get(id: string): OtaImage | undefined {
		return this.#images.get(id);
	}

	all(): OtaImage[] {
		return [...this.#images.values()];
	}
}
