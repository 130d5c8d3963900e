/*
 * Stand-in of Moddable's "telnet" (modules/network/telnet/telnet.js) on a node:net server bound to
 * 127.0.0.1: each received line runs through CLI.execute with the connection as `this`
 * (line() writes text + CRLF, write() writes text), then a "> " prompt, as telnet.js does.
 * `telnetServers` exposes the listening ports (port 0 picks a free one).
 */
import {sharedState} from "./stand-in-state";
import {createServer, type Server, type AddressInfo} from "node:net";
import CLI from "./cli";

export const telnetServers = sharedState("telnetServers", (): Telnet[] => []);

export default class Telnet {
	readonly server: Server;
	readonly ready: Promise<number>;

	constructor(options: {port: number}) {
		this.server = createServer(socket => {
			const output = {
				line: (...items: string[]) => socket.write(items.join("") + "\r\n"),
				write: (...items: string[]) => socket.write(items.join("")),
			};
			let incoming = "";
			socket.on("error", () => {});
			socket.on("data", data => {
				incoming += data.toString("utf8");
				let end: number;
				while ((end = incoming.search(/[\r\n]/)) >= 0) {
					const line = incoming.slice(0, end);
					incoming = incoming.slice(end + 1);
					if (line.trim()) {
						CLI.execute.call(output, line);
						output.write("> ");
					}
				}
			});
		});
		this.ready = new Promise(resolve =>
			this.server.listen(options.port, "127.0.0.1", () => resolve((this.server.address() as AddressInfo).port)),
		);
		telnetServers.push(this);
	}

	close(): void {
		this.server.close();
	}
}
