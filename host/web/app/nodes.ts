/*
 * The user's nodes as `GET user/nodes?node_details=true` returns them (the real API's shape: each
 * entry has node_id, config, params and status.connectivity), reduced to what the page shows, and
 * the node's user-approval OTA service found by its types (esp.service.ota with esp.param.ota_operation
 * and esp.param.ota_info; docs/protocol.md §2.1), as an app must look it up.
 */
import {
	FAQ_OTA_NAMES,
	findOtaNames,
	isOffered,
	readOffer,
	type OfferedUpdate,
	type OtaNames,
} from "../../client/ota-reading";
import {isObject, type Json, type JsonObject, type RestApi} from "./api";
import {readDevices, type DeviceSummary} from "./devices";

export type {OfferedUpdate, OtaNames};

export interface NodeSummary {
	id: string;
	name?: string;
	online: boolean;
	/** Epoch ms (or s) of the last connection change, when the cloud tells it. */
	since?: number;
	fwVersion?: string;
	project?: string;
	model?: string;
	/** Undefined when the node has no user-approval OTA service. */
	ota?: OtaNames;
	/** The update the node offers in Info (read by the approval client's reader too). */
	offer?: OfferedUpdate;
	/** The node's own devices (a product's), with their params. */
	devices?: DeviceSummary[];
}

function text(value: Json | undefined): string | undefined {
	return typeof value === "string" && value !== "" ? value : undefined;
}

export function summarize(entry: JsonObject): NodeSummary | undefined {
	const id = text(entry.node_id);
	if (!id) return undefined;
	const config = isObject(entry.config) ? entry.config : undefined;
	const info = config && isObject(config.info) ? config.info : {};
	const status = isObject(entry.status) ? entry.status : {};
	const connectivity = isObject(status.connectivity) ? status.connectivity : {};
	const params = isObject(entry.params) ? entry.params : {};
	const ota = findOtaNames(config);
	const read = ota ? readOffer(params, ota) : undefined;
	const offer = isOffered(read) ? read : undefined;
	const name = text(info.name);
	const fwVersion = text(info.fw_version);
	const project = text(info.project_name);
	const model = text(info.model);
	const devices = readDevices(config, params);
	return {
		id,
		online: connectivity.connected === true,
		...(typeof connectivity.timestamp === "number" ? {since: connectivity.timestamp} : {}),
		...(name ? {name} : {}),
		...(fwVersion ? {fwVersion} : {}),
		...(project ? {project} : {}),
		...(model ? {model} : {}),
		...(ota ? {ota} : {}),
		...(offer ? {offer} : {}),
		...(devices.length > 0 ? {devices} : {}),
	};
}

/** Every node of the user, following the pagination (`next_id` → `start_id`). */
export async function fetchNodes(api: RestApi): Promise<NodeSummary[]> {
	const nodes: NodeSummary[] = [];
	let startId: string | undefined;
	for (let page = 0; page < 50; page++) {
		const answer = await api.call("GET", "user/nodes", {
			node_details: true,
			...(startId ? {start_id: startId} : {}),
		});
		const details = isObject(answer) && Array.isArray(answer.node_details) ? answer.node_details : [];
		for (const entry of details) {
			const node = isObject(entry) ? summarize(entry) : undefined;
			if (node) nodes.push(node);
		}
		startId = isObject(answer) ? text(answer.next_id) : undefined;
		if (!startId) break;
	}
	return nodes;
}

/** `PUT user/nodes/params` in the current (array) form; the answer's per-node failure becomes an error. */
export async function writeOperation(api: RestApi, node: NodeSummary, value: "check" | "start"): Promise<void> {
	const names = node.ota ?? FAQ_OTA_NAMES;
	const answer = await api.call("PUT", "user/nodes/params", undefined, [
		{node_id: node.id, payload: {[names.service]: {[names.operation]: value}}},
	]);
	const first = Array.isArray(answer) ? answer[0] : answer;
	if (isObject(first) && first.status === "failure")
		throw new Error(typeof first.description === "string" ? first.description : "the cloud refused the write");
}
