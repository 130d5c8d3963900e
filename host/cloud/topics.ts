/*
 * Node→cloud topic names. A default RainMaker build publishes the AWS "basic ingest" form
 * `$aws/rules/<rule>/node/<id>/<suffix>`, a build without basic ingest the plain form
 * `node/<id>/<suffix>` (docs/protocol.md §3.2); the cloud accepts both and strips the prefix.
 */

export interface NodeTopic {
	nodeId: string;
	/** The part after `node/<id>/`, e.g. `otafetch`, `params/local/init`. */
	suffix: string;
	/** The basic-ingest rule name when the topic had the `$aws/rules/<rule>/` prefix. */
	rule?: string;
}

const basicIngest = /^\$aws\/rules\/([^/]+)\/(node\/.*)$/;

/** Splits a node→cloud topic; `undefined` for any other topic. */
export function parseNodeTopic(topic: string): NodeTopic | undefined {
	let rule: string | undefined;
	let rest = topic;
	const ingest = basicIngest.exec(topic);
	if (ingest) {
		rule = ingest[1];
		rest = ingest[2]!;
	}
	const parts = rest.split("/");
	if (parts.length < 3 || parts[0] !== "node" || parts[1] === "" || parts.slice(2).some(part => part === ""))
		return undefined;
	const parsed: NodeTopic = {nodeId: parts[1]!, suffix: parts.slice(2).join("/")};
	if (rule !== undefined) parsed.rule = rule;
	return parsed;
}

/** Cloud→node topic `node/<id>/<suffix>` (subscriptions always use the plain form). */
export function nodeTopic(nodeId: string, suffix: string): string {
	return `node/${nodeId}/${suffix}`;
}
