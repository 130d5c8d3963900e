/*
 * What the cloud does with each message a node publishes (docs/protocol.md §3.2): config and
 * params go to the registry, `user/mapping` to the mapping store, otafetch and otastatus to the
 * OTA service. The broker (mqtt-server.ts) has already checked the client may publish there.
 */
import type {EventEmitter} from "node:events";
import type {CloudEventMap} from "./cloud-api";
import {isObject, type JsonObject} from "./http-json";
import type {MappingStore} from "./mappings";
import type {OtaService} from "./ota-service";
import type {NodeRegistry} from "./registry";
import type {NodeTopic} from "./topics";

/** A node's GetStream requests are answered by host/cloud/streams.ts (docs/protocol.md §5.10). */
export {answerStreamRequest} from "./streams";

export interface NodeMessageDeps {
	registry: NodeRegistry;
	mappings: MappingStore;
	ota: OtaService;
	events: EventEmitter<CloudEventMap>;
	log(line: string): void;
}

export function handleNodeMessage(
	deps: NodeMessageDeps,
	topic: NodeTopic,
	message: string | Uint8Array,
	clientId: string,
): void {
	const payload = typeof message === "string" ? message : Buffer.from(message).toString("utf8");
	const {registry, events} = deps;
	const {nodeId, suffix} = topic;
	if (registry.seen(nodeId, clientId)) events.emit("online", nodeId);
	events.emit("message", {
		nodeId,
		suffix,
		...(topic.rule !== undefined ? {rule: topic.rule} : {}),
		payload,
		clientId,
	});
	const json = (): JsonObject | undefined => {
		try {
			const value: unknown = JSON.parse(payload);
			if (isObject(value)) return value;
		} catch {
			// reported below
		}
		events.emit("warning", `${nodeId}/${suffix}: payload is not a JSON object, ignored`);
		return undefined;
	};
	if (suffix === "config") {
		const config = json();
		if (config) {
			registry.setConfig(nodeId, config);
			deps.log(`${nodeId} → config`);
			events.emit("config", {nodeId, config});
		}
	} else if (suffix === "params/local/init" || suffix === "params/local" || suffix.startsWith("params/local/")) {
		const params = json();
		if (params) {
			const init = suffix === "params/local/init";
			if (init) registry.replaceParams(nodeId, params);
			else registry.mergeParams(nodeId, params);
			deps.log(`${nodeId} → ${suffix} ${payload}`);
			events.emit("params", {nodeId, params, init});
		}
	} else if (suffix === "user/mapping") {
		const mapping = json();
		if (mapping && typeof mapping.user_id === "string" && typeof mapping.secret_key === "string")
			deps.mappings.nodeReported(nodeId, mapping.user_id, mapping.secret_key);
	} else if (suffix === "otafetch") {
		deps.ota.onOtafetch(nodeId, payload);
	} else if (suffix === "otastatus") {
		deps.ota.onStatus(nodeId, payload);
	}
}
