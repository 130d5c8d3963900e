/*
 * Every port of the core (rainmaker/ports.ts, ota/ports.ts) held to one contract suite
 * (tests/support/contracts/), run against each adapter: the host's (host/adapters/, idf/ on a flash
 * file) and the device's (device/, over the Moddable stand-ins of tests/support/moddable/). A new
 * adapter joins by adding one call here (docs/testing.md, "Port contracts").
 */
import {HostHttpClient} from "../host/adapters/http-client";
import {HostTimers} from "../host/adapters/timers";
import type {HttpClient} from "../ota/ports";
import type {Timers} from "../rainmaker/ports";
import {httpClientContract} from "./support/contracts/http-client";
import {loadDevice} from "./support/moddable-loader";
import {requestsMade} from "./support/moddable/http";

httpClientContract("host (node:http)", async () => ({client: new HostHttpClient({maxChunk: 4096}), maxChunk: 4096}));
httpClientContract("device (Moddable Request stand-in)", async () => {
	const {DeviceHttpClient, READ_PIECE_BYTES} = await loadDevice<{
		DeviceHttpClient: new (timers: Timers) => HttpClient;
		READ_PIECE_BYTES: number;
	}>("http-client");
	return {
		client: new DeviceHttpClient(new HostTimers()),
		maxChunk: READ_PIECE_BYTES,
		settled: async () => {
			await requestsMade.at(-1)?.settled;
		},
	};
});
