/*
 * The network of the QEMU build (docs/device.md, section 11): QEMU's OpenCores Ethernet NIC
 * (`-nic user,model=open_eth`) through ESP-IDF's own driver (esp_eth_mac_new_openeth), a generic
 * IEEE 802.3 PHY and esp_netif's default Ethernet interface, which runs the DHCP client. It stands
 * in for the Wi-Fi station that setup/network joins in the device build; everything above the
 * netif (lwIP sockets, Moddable's socket/securesocket/http modules, the firmware) is the same.
 *
 * Host functions of device/esp32/openeth/network-openeth.js:
 *   start()   installs and starts the driver once (throws with the failing call and its esp_err_t)
 *   address() the IPv4 address DHCP gave the interface, as a string, or undefined before the lease
 * The IDF headers are named by their path under components/ where the SDK's include list
 * (tools/mcconfig/make.esp32.mk) lacks their directory, as in native/otaplat_esp32.c.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"

#include <stdio.h>
#include "esp_err.h"
#include "esp_event.h"
#include "esp_netif.h"
#include "esp_eth.h"
#include "esp_eth_mac_openeth.h"
#include "sdkconfig.h"

#ifndef CONFIG_ETH_USE_OPENETH
	#error "the openeth network needs CONFIG_ETH_USE_OPENETH=y in the sdkconfig (host/sim/qemu.ts buildQemuFirmware adds it)"
#endif

int openeth_wifi_absent(void);	/* wifi-absent.c: linked with this object */

static esp_netif_t *gOpenethNetif;
static esp_eth_handle_t gOpenethHandle;
static volatile uint32_t gOpenethAddress;	/* network byte order, 0 until DHCP */

static void openethGotIP(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	ip_event_got_ip_t *event = (ip_event_got_ip_t *)data;
	if (event->esp_netif == gOpenethNetif)
		gOpenethAddress = event->ip_info.ip.addr;
}

static void openethLostIP(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	gOpenethAddress = 0;
}

#define OPENETH_CHECK(call) do { esp_err_t err_ = (call); if (ESP_OK != err_) xsUnknownError("openeth: %s failed: %s (%d)", #call, esp_err_to_name(err_), (int)err_); } while (0)

void xs_openeth_start(xsMachine *the)
{
	esp_err_t err;
	if (gOpenethNetif)
		return;
	(void)openeth_wifi_absent();
	OPENETH_CHECK(esp_netif_init());
	err = esp_event_loop_create_default();
	if ((ESP_OK != err) && (ESP_ERR_INVALID_STATE != err))	/* INVALID_STATE: the loop exists already */
		xsUnknownError("openeth: esp_event_loop_create_default failed: %s (%d)", esp_err_to_name(err), (int)err);

	esp_netif_config_t netifConfig = ESP_NETIF_DEFAULT_ETH();
	esp_netif_t *netif = esp_netif_new(&netifConfig);
	if (!netif)
		xsUnknownError("openeth: esp_netif_new failed (out of memory?)");

	eth_mac_config_t macConfig = ETH_MAC_DEFAULT_CONFIG();
	eth_phy_config_t phyConfig = ETH_PHY_DEFAULT_CONFIG();
	phyConfig.autonego_timeout_ms = 100;	/* QEMU's PHY has no link negotiation to wait for */
	esp_eth_mac_t *mac = esp_eth_mac_new_openeth(&macConfig);
	esp_eth_phy_t *phy = esp_eth_phy_new_generic(&phyConfig);
	if (!mac || !phy)
		xsUnknownError("openeth: esp_eth_mac_new_openeth/esp_eth_phy_new_generic failed");
	esp_eth_config_t config = ETH_DEFAULT_CONFIG(mac, phy);
	OPENETH_CHECK(esp_eth_driver_install(&config, &gOpenethHandle));
	OPENETH_CHECK(esp_netif_attach(netif, esp_eth_new_netif_glue(gOpenethHandle)));
	gOpenethNetif = netif;
	OPENETH_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_ETH_GOT_IP, openethGotIP, NULL));
	OPENETH_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_ETH_LOST_IP, openethLostIP, NULL));
	OPENETH_CHECK(esp_eth_start(gOpenethHandle));
}

void xs_openeth_address(xsMachine *the)
{
	uint32_t address = gOpenethAddress;
	char text[16];
	if (!address)
		return;
	snprintf(text, sizeof(text), "%u.%u.%u.%u", (unsigned)(address & 0xFF), (unsigned)((address >> 8) & 0xFF), (unsigned)((address >> 16) & 0xFF), (unsigned)(address >> 24));
	xsmcSetString(xsResult, text);
}
