/*
 * What an image file is, read in the browser before it is uploaded: the header, app descriptor and
 * firmware identity (docs/protocol.md §7), parsed by the firmware's own parser (ota/image.ts), so the
 * admin sees the facts the node will check (project, identity, version, chip, secure version) before
 * the cloud has the file.
 */
import {chipName, chipRevisionText, HEADER_PROBE_LENGTH, parseImageHeader, type AppImageInfo} from "../../../ota/image";

export interface ImageFacts {
	info: AppImageInfo;
	fileName: string;
	fileSize: number;
}

/** Reads the file's header; throws an Error with a text for a person when it is not an app image. */
export async function readImageFacts(file: File): Promise<ImageFacts> {
	const head = new Uint8Array(await file.slice(0, HEADER_PROBE_LENGTH).arrayBuffer());
	const info = parseImageHeader(head);
	return {info, fileName: file.name, fileSize: file.size};
}

/** The facts as label/value rows. */
export function factRows(facts: ImageFacts): [string, string][] {
	const {info} = facts;
	return [
		["Project", info.projectName || "(empty)"],
		["Firmware identity", info.identity ?? "none (another app's image)"],
		["Version", info.version || "(empty)"],
		["Chip", chipName(info.chipId)],
		[
			"Chip revisions",
			`${chipRevisionText(info.minChipRevFull)} .. ${info.maxChipRevFull === 0 || info.maxChipRevFull === 0xffff ? "any" : chipRevisionText(info.maxChipRevFull)}`,
		],
		["Secure version", String(info.secureVersion)],
		["ESP-IDF", info.idfVer || "—"],
		["Built", `${info.date} ${info.time}`.trim() || "—"],
		["File size", `${facts.fileSize.toLocaleString("en")} bytes`],
		["SHA-256 appended", info.hashAppended ? "yes" : "no"],
	];
}

/** The whole file as base64 (what `POST admin/otaimage` takes). */
export function fileToBase64(file: File): Promise<string> {
	return new Promise((resolve, reject) => {
		const reader = new FileReader();
		reader.onerror = () =>
			reject(new Error(`cannot read ${file.name}: ${reader.error?.message ?? "unknown error"}`));
		reader.onload = () => {
			const url = String(reader.result);
			resolve(url.slice(url.indexOf(",") + 1));
		};
		reader.readAsDataURL(file);
	});
}
