/*
 * MQTT identities as the RainMaker policy on AWS IoT enforces them (docs/local-cloud.md, "MQTT
 * identities"): the client id is the node id and follows the node's id rule; a client publishes
 * only on `node/<client id>/…` or the basic-ingest form `$aws/rules/<rule>/node/<client id>/…`,
 * and subscribes only under `node/<client id>/…`, the id compared as one whole topic level; the
 * cloud→node command topics are the cloud's alone; no client retains a message; over mutual TLS the
 * certificate's common name is the node id. Messages are limited to AWS IoT's 128 KiB. A node's MQTT
 * file streams (docs/protocol.md §5.10) are its own too: it publishes only GetStream/DescribeStream
 * requests on `$aws/things/<client id>/streams/<stream>/get|describe/cbor|json` and subscribes only
 * to `$aws/things/<client id>/streams/<stream>/data|rejected|description/cbor|json`.
 */
import type {PeerCertificate} from "node:tls";

export const MAX_MESSAGE_BYTES = 128 * 1024;

/** The node's own rule for its id (device/settings.ts): 1..64 of A-Z a-z 0-9 _ -, so never `/`, `+` or `#`. */
export const NODE_ID_RULE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Topics only the cloud publishes to a node (docs/protocol.md §3.3): the OTA URL, params writes and
 * commands. The MQTT-stream topics (`$aws/things/<id>/streams/…`) are outside `node/` and refused anyway.
 */
export const COMMAND_SUFFIXES: readonly string[] = ["otaurl", "params/remote", "to-node"];

export function isNodeId(id: string): boolean {
	return NODE_ID_RULE.test(id);
}

/** The levels after `node/<clientId>/` when the id level equals the client id exactly; else undefined. */
function ownLevels(clientId: string, levels: string[]): string[] | undefined {
	if (!isNodeId(clientId) || levels.length < 3 || levels[0] !== "node" || levels[1] !== clientId) return undefined;
	return levels.slice(2);
}

/** `$aws/things/<clientId>/streams/<stream>/<kind>/<format>` with kind one of `kinds` (a filter may use + for the stream). */
function ownStreamTopic(clientId: string, levels: string[], kinds: readonly string[]): boolean {
	return (
		isNodeId(clientId) &&
		levels.length === 7 &&
		levels[0] === "$aws" &&
		levels[1] === "things" &&
		levels[2] === clientId &&
		levels[3] === "streams" &&
		levels[4] !== "" &&
		levels[4] !== "#" &&
		kinds.includes(levels[5]) &&
		(levels[6] === "cbor" || levels[6] === "json")
	);
}

/** Why the client may not publish this (undefined: it may). */
export function publishRefusal(clientId: string, topic: string, retain: boolean): string | undefined {
	if (retain)
		return "a client may not retain a message (RainMaker publishes with retain false, docs/protocol.md §3.1)";
	if (topic.includes("+") || topic.includes("#")) return "a topic name has no wildcards";
	if (topic.startsWith("$aws/things/"))
		return ownStreamTopic(clientId, topic.split("/"), ["get", "describe"])
			? undefined
			: "not this client's stream request topic";
	let levels = topic.split("/");
	if (levels[0] === "$aws" && levels[1] === "rules" && levels.length > 3 && levels[2] !== "")
		levels = levels.slice(3);
	const own = ownLevels(clientId, levels);
	if (!own || own.some(level => level === "")) return "not this client's node topic";
	if (COMMAND_SUFFIXES.includes(own.join("/"))) return "a command topic is the cloud's alone";
	return undefined;
}

export function mayPublish(clientId: string, topic: string, retain = false): boolean {
	return publishRefusal(clientId, topic, retain) === undefined;
}

/** Subscriptions may use wildcards only below the node's own prefix (`node/<id>/#` is fine, `#` is not). */
export function maySubscribe(clientId: string, topicFilter: string): boolean {
	if (topicFilter.startsWith("$aws/things/"))
		return ownStreamTopic(clientId, topicFilter.split("/"), ["data", "rejected", "description"]);
	const own = ownLevels(clientId, topicFilter.split("/"));
	return own !== undefined && own.join("/") !== "";
}

/** The CN of a client certificate, or undefined. */
export function certificateIdentity(certificate: PeerCertificate | undefined): string | undefined {
	const commonName = certificate?.subject?.CN;
	if (Array.isArray(commonName)) return commonName.length === 1 ? commonName[0] : undefined;
	return typeof commonName === "string" && commonName !== "" ? commonName : undefined;
}
