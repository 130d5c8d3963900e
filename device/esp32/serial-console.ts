/*
 * The serial Console (Moddable's `console`, esp32 only: modConsole.c needs ESP_getc). manifest.json
 * maps the specifier "serial-console" here for esp32 and to device/stand-ins/serial-console for lin.
 */
import Console from "console";

export function openSerialConsole(): unknown {
	return new Console();
}
