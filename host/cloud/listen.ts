/* Starting and stopping the cloud's listeners (MQTT, MQTT/TLS, HTTP, HTTPS) the same way. */
import type {AddressInfo, Server, Socket} from "node:net";

export interface Listener {
	port: number;
	/** Cuts every open connection; the listener keeps accepting new ones. */
	dropConnections(): void;
	/** Stops listening and cuts every open connection (stalled downloads, idle keep-alives, MQTT clients). */
	close(): Promise<void>;
}

/** Listens on host:port (0 = any free port); refuses with a clear error when the port is taken. */
export async function listen(server: Server, host: string, port: number, what: string): Promise<Listener> {
	const sockets = new Set<Socket>();
	server.on("connection", (socket: Socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
	});
	await new Promise<void>((resolve, reject) => {
		const onError = (error: NodeJS.ErrnoException) =>
			// The code and the port stay on the error: the cloud command names the option (host/cloud/main.ts).
			reject(
				Object.assign(new Error(`${what}: cannot listen on ${host}:${port}: ${error.code ?? error.message}`), {
					code: error.code,
					port,
				}),
			);
		server.once("error", onError);
		server.listen(port, host, () => {
			server.off("error", onError);
			resolve();
		});
	});
	// After listening, errors of the server itself are logged by the owner; never unhandled.
	server.on("error", () => {});
	return {
		port: (server.address() as AddressInfo).port,
		dropConnections() {
			for (const socket of sockets) socket.destroy();
		},
		close() {
			for (const socket of sockets) socket.destroy();
			return new Promise<void>(resolve => server.close(() => resolve()));
		},
	};
}
