/*
 * MQTT identities as the RainMaker policy on AWS IoT enforces them (docs/local-cloud.md, "MQTT
 * identities"): the client id is the node id; a client publishes only on `node/<client id>/…` or
 * the basic-ingest form `$aws/rules/<rule>/node/<client id>/…`, and subscribes only under
 * `node/<client id>/…`; over mutual TLS the certificate's common name is the node id. Messages are
 * limited to AWS IoT's 128 KiB.
 */
import type {PeerCertificate} from "node:tls";

export const MAX_MESSAGE_BYTES = 128 * 1024;

function hasWildcard(level: string): boolean {
	return level.includes("+") || level.includes("#");
}

/** True when `topic` is `node/<clientId>/<something>` with the id level literal (no wildcard). */
function underOwnNode(clientId: string, topic: string): boolean {
	const prefix = `node/${clientId}/`;
	return !hasWildcard(clientId) && topic.startsWith(prefix) && topic.length > prefix.length;
}

export function mayPublish(clientId: string, topic: string): boolean {
	if (hasWildcard(topic))
		return false;
	if (underOwnNode(clientId, topic))
		return true;
	const ingest = /^\$aws\/rules\/[^/]+\/(node\/.+)$/.exec(topic);
	return ingest !== null && underOwnNode(clientId, ingest[1]!);
}

/** Subscriptions may use wildcards only below the node's own prefix (`node/<id>/#` is fine, `#` is not). */
export function maySubscribe(clientId: string, topicFilter: string): boolean {
	return underOwnNode(clientId, topicFilter);
}

/** The CN of a client certificate, or undefined. */
export function certificateIdentity(certificate: PeerCertificate | undefined): string | undefined {
	const commonName = certificate?.subject?.CN;
	if (Array.isArray(commonName))
		return commonName.length === 1 ? commonName[0] : undefined;
	return typeof commonName === "string" && commonName !== "" ? commonName : undefined;
}
