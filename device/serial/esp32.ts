/*
 * The serial Console (Moddable's `console`, esp32 only: modConsole.c needs ESP_getc). manifest.json
 * maps the specifier "serial-console" here for esp32 and to device/stand-ins/serial-console for lin.
 * Not in device/esp32/: mcconfig registers a source file once, and "device/esp32/*" would claim it
 * under its path name, leaving "serial-console" without a module.
 */
import Console from "console";

export function openSerialConsole(): unknown {
	return new Console();
}
