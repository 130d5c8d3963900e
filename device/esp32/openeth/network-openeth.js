/*
 * setup/network of the QEMU build (manifests/network-openeth.json; docs/device.md, section 11): the
 * same contract as the SDK's Wi-Fi setup/network ($(BUILD)/devices/esp32/setup/network.js) that the
 * device build uses: bring the interface up, wait for the DHCP lease, set the clock by SNTP
 * (config.sntp) unless it is already set, then call done() so that main runs. Only the interface
 * differs: QEMU's OpenCores Ethernet (network-openeth.c) instead of a Wi-Fi station.
 * A JavaScript module, not TypeScript: its two functions are host functions (`@ "xs_…"`).
 */
import config from "mc/config";
import Time from "time";
import Timer from "timer";
import SNTP from "sntp";

function start() @ "xs_openeth_start";
function address() @ "xs_openeth_address";

const POLL_MS = 100;
const SLOW_LEASE_MS = 20000;

export default function (done) {
	start();
	let waited = 0;
	Timer.repeat(id => {
		const ip = address();
		if (!ip) {
			waited += POLL_MS;
			if (waited === SLOW_LEASE_MS)
				trace(`openeth: no DHCP lease after ${SLOW_LEASE_MS / 1000} s (is QEMU started with -nic user,model=open_eth?); still waiting\n`);
			return;
		}
		Timer.clear(id);
		trace(`openeth: IP address ${ip}\n`);
		if (!config.sntp || (Date.now() > 1672722071_000))
			return done();
		new SNTP({host: config.sntp}, function (message, value) {
			if (SNTP.time === message) {
				trace(`got unix time ${value} from ${config.sntp}\n`);
				Time.set(value);
			}
			else if (SNTP.error === message)
				trace(`openeth: can't get time from ${config.sntp}\n`);
			else
				return;
			done();
		});
	}, POLL_MS);
}
