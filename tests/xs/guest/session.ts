/*
 * MqttSession port inside XS, carried over the bridge to a real MQTT client on the Node side
 * (the host adapter, connected to a real broker). PUBACKs, CONNACKs, losses of the link and
 * incoming messages come back as events.
 */
import type {MqttSession, PublishDone} from "../../../rainmaker/ports";
import {call, on} from "./bridge";

export class BridgedSession implements MqttSession {
	#next = 1;
	readonly #done = new Map<number, PublishDone>();
	onConnect?: (first: boolean) => void;
	onDisconnect?: (reason: string) => void;
	onMessage?: (topic: string, payload: string) => void;
	onBinaryMessage?: (topic: string, payload: Uint8Array) => void;

	constructor() {
		on("mqtt.connect", head => this.onConnect?.(head.first === true));
		on("mqtt.disconnect", head => this.onDisconnect?.(String(head.reason)));
		on("mqtt.message", head => this.onMessage?.(String(head.topic), String(head.payload)));
		// a stream block: its bytes are a view into the event's frame, as a packet buffer on the device
		on("mqtt.binary", (head, bytes) => this.onBinaryMessage?.(String(head.topic), bytes));
		on("mqtt.done", head => {
			const id = Number(head.id);
			const done = this.#done.get(id);
			this.#done.delete(id);
			done?.(typeof head.error === "string" ? new Error(head.error) : undefined);
		});
	}

	get connected(): boolean {
		return call("session", "connected").value === true;
	}

	connect(): void {
		call("session", "connect");
	}

	close(): void {
		call("session", "close");
	}

	publish(topic: string, payload: string | Uint8Array, done?: PublishDone): void {
		let id = 0;
		if (done) {
			id = this.#next++;
			this.#done.set(id, done);
		}
		if (typeof payload === "string") call("session", "publish", [topic, payload, id]);
		else call("session", "publishBytes", [topic, id], payload, true);
	}

	subscribe(topic: string, binary = false): void {
		call("session", "subscribe", [topic, binary]);
	}

	unsubscribe(topic: string): void {
		call("session", "unsubscribe", [topic]);
	}
}
