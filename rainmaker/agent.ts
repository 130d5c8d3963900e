/*
 * The RainMaker node agent: runs the startup chain of esp_rmaker_core.c over an MqttSession
 * (config, params/remote subscription, params/local/init, then "started"), applies validated
 * params/remote writes through the devices' write callbacks and reports param changes on
 * params/local, keeping changes made while offline until the link is back (docs/protocol.md §3.4, §6.5).
 */
import {errorText} from "./error-text";
import {utf8Length} from "./utf8";
import type {Log, MqttSession, PublishDone} from "./ports";
import {isJsonObject} from "./model";
import type {Device, JsonValue, Node, ParamWrite} from "./model";
import {
	DEFAULT_TOPIC_FORM,
	RULE_INIT_PARAMS,
	RULE_NODE_CONFIG,
	RULE_SET_PARAMS,
	SUFFIX_CONFIG,
	SUFFIX_PARAMS_LOCAL,
	SUFFIX_PARAMS_LOCAL_INIT,
	SUFFIX_PARAMS_REMOTE,
	publishTopic,
	subscribeTopic,
} from "./topics";
import type {TopicForm} from "./topics";

export interface NodeAgentOptions {
	node: Node;
	session: MqttSession;
	log: Log;
	/** Default DEFAULT_TOPIC_FORM ("plain"; see topics.ts for why). */
	topicForm?: TopicForm;
	/** Largest params/remote payload accepted, in UTF-8 bytes. Default 4096. */
	maxRemotePayload?: number;
}

type ParamValues = {[param: string]: JsonValue};
type Report = {[device: string]: ParamValues};

export class NodeAgent {
	readonly node: Node;
	readonly #session: MqttSession;
	readonly #log: Log;
	readonly #topicForm: TopicForm;
	readonly #maxRemotePayload: number;
	readonly #handlers = new Map<string, (payload: string) => void>();
	readonly #binaryHandlers = new Map<string, (payload: Uint8Array) => void>();
	readonly #lostListeners = new Set<(reason: string) => void>();
	readonly #connectedListeners: Array<(first: boolean) => void> = [];
	readonly #startedListeners: Array<() => void> = [];
	/** Changes not yet reported (made offline, or whose report failed); reported after the next CONNACK. */
	#pending: Report = {};
	#connectedOnce = false;
	#startedFlag = false;
	/** Set when the config or init report failed, so the next CONNACK sends it again. */
	#configUnreported = false;
	#initUnreported = false;

	constructor(options: NodeAgentOptions) {
		this.node = options.node;
		this.#session = options.session;
		this.#log = options.log;
		this.#topicForm = options.topicForm ?? DEFAULT_TOPIC_FORM;
		this.#maxRemotePayload = options.maxRemotePayload ?? 4096;
	}

	/** True once config, params/remote subscription and params/local/init were done (RMAKER_EVENT_STARTED). */
	get started(): boolean {
		return this.#startedFlag;
	}

	/** Installs the session callbacks and starts connecting. */
	start(): void {
		this.#session.onConnect = first => this.#handleConnect(first);
		this.#session.onDisconnect = reason => {
			this.#log.warn(`rainmaker: MQTT link lost (${reason}); the session reconnects`);
			for (const listener of Array.from(this.#lostListeners))
				this.#callListener("link lost", () => listener(reason));
		};
		this.#session.onMessage = (topic, payload, retained) => this.#handleMessage(topic, payload, retained);
		this.#session.onBinaryMessage = (topic, payload) => this.#binaryHandlers.get(topic)?.(payload);
		this.#session.connect();
	}

	stop(): void {
		this.#session.close();
	}

	/** Every CONNACK; on the first one before the startup chain (the OTA rollback check marks the image valid here). */
	onConnected(listener: (first: boolean) => void): void {
		this.#connectedListeners.push(listener);
	}

	/** Once, after the startup chain; at once when the agent has started already. */
	onStarted(listener: () => void): void {
		this.#startedListeners.push(listener);
		if (this.#startedFlag) this.#callListener("started", () => listener());
	}

	/** Publishes on the node's `<suffix>` topic in the agent's topic form (QoS 1). */
	publish(suffix: string, rule: string, payload: string, done?: PublishDone): void {
		this.#session.publish(publishTopic(this.node.id, suffix, rule, this.#topicForm), payload, done);
	}

	/** Subscribes to node/<id>/<suffix> (QoS 1, renewed by the session on every reconnect). */
	subscribe(suffix: string, handler: (payload: string) => void): void {
		const topic = subscribeTopic(this.node.id, suffix);
		this.#handlers.set(topic, handler);
		this.#session.subscribe(topic);
	}

	unsubscribe(suffix: string): void {
		const topic = subscribeTopic(this.node.id, suffix);
		if (this.#handlers.delete(topic)) this.#session.unsubscribe(topic);
	}

	/** True between a CONNACK and the next loss of the link. */
	get connected(): boolean {
		return this.#session.connected;
	}

	/** Subscribes to a full topic whose messages are bytes (an MQTT file stream's, docs/protocol.md §5.10). */
	subscribeBinary(topic: string, handler: (payload: Uint8Array) => void): void {
		this.#binaryHandlers.set(topic, handler);
		this.#session.subscribe(topic, true);
	}

	unsubscribeBinary(topic: string): void {
		if (this.#binaryHandlers.delete(topic)) this.#session.unsubscribe(topic);
	}

	/** Publishes bytes on a full topic (QoS 1). */
	publishBinary(topic: string, payload: Uint8Array, done?: PublishDone): void {
		this.#session.publish(topic, payload, done);
	}

	/** Calls `listener` whenever the link is lost, until the returned function is called. */
	onLinkLost(listener: (reason: string) => void): () => void {
		this.#lostListeners.add(listener);
		return () => void this.#lostListeners.delete(listener);
	}

	/**
	 * A change made by the firmware: stores the values (checked against the data type) and reports
	 * them on params/local; while offline they are kept and reported after the reconnect. Unknown
	 * devices or params and values of the wrong type are logged and skipped.
	 */
	updateParams(deviceName: string, values: {[param: string]: JsonValue}): void {
		const device = this.node.device(deviceName);
		if (!device) {
			this.#log.error(`rainmaker: update of unknown device ${JSON.stringify(deviceName)} skipped`);
			return;
		}
		const changed: ParamValues = {};
		let count = 0;
		for (const name of Object.keys(values)) {
			const param = device.param(name);
			const value = values[name];
			if (!param) {
				this.#log.error(`rainmaker: update of unknown param ${deviceName}.${name} skipped`);
				continue;
			}
			const reason = param.checkType(value);
			if (reason !== undefined) {
				this.#log.error(`rainmaker: update of ${deviceName}.${name} skipped: ${reason}`);
				continue;
			}
			param.value = value;
			changed[name] = value;
			count++;
		}
		// Before the start the init report carries the stored values.
		if (count > 0 && this.#startedFlag) this.#report({[deviceName]: changed});
	}

	#handleConnect(_sessionFirst: boolean): void {
		const first = !this.#connectedOnce;
		this.#connectedOnce = true;
		for (const listener of this.#connectedListeners) this.#callListener("connected", () => listener(first));
		if (first) {
			this.#runStartupChain();
			return;
		}
		// A reconnect: the session renewed the subscriptions; no new config or init params
		// (unless their first report failed), but the changes made while offline go out now.
		if (this.#configUnreported) this.#publishConfig();
		if (this.#initUnreported) {
			this.#pending = {};
			this.#publishInitParams();
		} else this.#flushPending();
	}

	#runStartupChain(): void {
		this.#publishConfig();
		this.subscribe(SUFFIX_PARAMS_REMOTE, payload => this.#handleRemoteParams(payload));
		this.#publishInitParams();
		this.#startedFlag = true;
		this.#log.info(`rainmaker: node ${this.node.id} started`);
		for (const listener of this.#startedListeners) this.#callListener("started", () => listener());
	}

	#publishConfig(): void {
		this.#configUnreported = false;
		this.publish(SUFFIX_CONFIG, RULE_NODE_CONFIG, JSON.stringify(this.node.configJson()), error => {
			if (error) {
				this.#log.error(
					`rainmaker: node config report failed (${error.message}); sent again after the reconnect`,
				);
				this.#configUnreported = true;
			}
		});
	}

	#publishInitParams(): void {
		this.#initUnreported = false;
		this.publish(SUFFIX_PARAMS_LOCAL_INIT, RULE_INIT_PARAMS, JSON.stringify(this.node.paramsJson()), error => {
			if (error) {
				this.#log.error(
					`rainmaker: init params report failed (${error.message}); sent again after the reconnect`,
				);
				this.#initUnreported = true;
			}
		});
	}

	/** Reports changed values on params/local now, or keeps them for the next CONNACK while offline. */
	#report(values: Report): void {
		if (!this.#session.connected) {
			this.#mergePending(values, true);
			return;
		}
		const payload = JSON.stringify(values);
		this.publish(SUFFIX_PARAMS_LOCAL, RULE_SET_PARAMS, payload, error => {
			if (error) {
				this.#log.warn(`rainmaker: params report failed (${error.message}); reported after the reconnect`);
				// A newer value of the same param, kept meanwhile, wins over the failed one.
				this.#mergePending(values, false);
			}
		});
	}

	#mergePending(values: Report, overwrite: boolean): void {
		for (const deviceName of Object.keys(values)) {
			const kept = this.#pending[deviceName] ?? (this.#pending[deviceName] = {});
			const changed = values[deviceName];
			for (const name of Object.keys(changed)) {
				if (overwrite || !(name in kept)) kept[name] = changed[name];
			}
		}
	}

	#flushPending(): void {
		if (Object.keys(this.#pending).length === 0) return;
		const values = this.#pending;
		this.#pending = {};
		this.#report(values);
	}

	#handleMessage(topic: string, payload: string, retained: boolean): void {
		const handler = this.#handlers.get(topic);
		if (!handler) {
			this.#log.warn(`rainmaker: message on unexpected topic ${topic} ignored`);
			return;
		}
		// Every command of the cloud is sent with retain false (docs/protocol.md §3.1). A retained one was
		// left on the broker by some client, maybe long ago, and would come back on every reconnect:
		// an `otaurl` or `params/remote` the cloud did not send now. AWS IoT lets a client retain only
		// with the separate iot:RetainPublish permission; the node never acts on one.
		if (retained) {
			this.#log.warn(
				`rainmaker: retained message on ${topic} ignored (the cloud never retains a command; docs/protocol.md §3.1)`,
			);
			return;
		}
		try {
			handler(payload);
		} catch (error) {
			this.#log.error(`rainmaker: handler of ${topic} failed: ${errorText(error)}`);
		}
	}

	/** params/remote: validate each param; apply the valid ones through the device's onWrite; report the stored ones. */
	#handleRemoteParams(payload: string): void {
		const size = utf8Length(payload);
		if (size > this.#maxRemotePayload) {
			this.#log.warn(
				`rainmaker: params/remote refused: ${size} bytes exceed the limit of ${this.#maxRemotePayload}`,
			);
			return;
		}
		let message: unknown;
		try {
			message = JSON.parse(payload);
		} catch (error) {
			this.#log.warn(`rainmaker: params/remote refused: invalid JSON (${errorText(error)})`);
			return;
		}
		if (!isJsonObject(message)) {
			this.#log.warn(
				`rainmaker: params/remote refused: top level must be an object, not ${message === null ? "null" : Array.isArray(message) ? "an array" : typeof message}`,
			);
			return;
		}
		const stored: Report = {};
		for (const deviceName of Object.keys(message)) {
			const device = this.node.device(deviceName);
			if (!device) {
				this.#log.warn(`rainmaker: params/remote: unknown device ${JSON.stringify(deviceName)} skipped`);
				continue;
			}
			const params = message[deviceName];
			if (!isJsonObject(params)) {
				this.#log.warn(`rainmaker: params/remote: ${deviceName}: expected an object of params, skipped`);
				continue;
			}
			const writes = this.#acceptedWrites(device, params);
			if (writes.length === 0) continue;
			const values = this.#applyWrites(device, writes);
			if (values) stored[deviceName] = values;
		}
		if (Object.keys(stored).length > 0) this.#report(stored);
	}

	#acceptedWrites(device: Device, params: {[key: string]: JsonValue}): ParamWrite[] {
		const writes: ParamWrite[] = [];
		for (const name of Object.keys(params)) {
			const param = device.param(name);
			const value = params[name];
			let reason: string | undefined;
			if (!param) reason = "unknown param";
			else if (!param.hasProperty("write")) reason = "param is not writable";
			else reason = param.check(value);
			if (reason !== undefined || !param) {
				this.#log.warn(`rainmaker: params/remote: ${device.name}.${name} refused: ${reason}`);
				continue;
			}
			writes.push({param, value});
		}
		return writes;
	}

	/** Runs the device's onWrite; returns the stored values to report, or undefined when the write was refused. */
	#applyWrites(device: Device, writes: ParamWrite[]): ParamValues | undefined {
		if (device.onWrite) {
			let verdict: boolean | void;
			try {
				verdict = device.onWrite(writes, "cloud");
			} catch (error) {
				this.#log.error(
					`rainmaker: params/remote: write callback of ${device.name} failed: ${errorText(error)}; nothing stored`,
				);
				return undefined;
			}
			if (verdict === false) {
				this.#log.info(
					`rainmaker: params/remote: ${device.name} refused the write of ${writes.map(write => write.param.name).join(", ")}`,
				);
				return undefined;
			}
		}
		// Params without "read" are commands (like the OTA service's Operation): delivered, neither stored nor reported.
		const values: ParamValues = {};
		let count = 0;
		for (const write of writes) {
			if (!write.param.hasProperty("read")) continue;
			write.param.value = write.value;
			values[write.param.name] = write.value;
			count++;
		}
		return count > 0 ? values : undefined;
	}

	#callListener(what: string, call: () => void): void {
		try {
			call();
		} catch (error) {
			this.#log.error(`rainmaker: ${what} listener failed: ${errorText(error)}`);
		}
	}
}
