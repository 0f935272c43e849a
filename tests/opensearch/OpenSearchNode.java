/*
 * A real single-node OpenSearch for tests: HTTP on 127.0.0.1 at a free port
 * (netty4, or the port given as the second argument), data in the directory
 * given as the first argument. Prints
 * "http 127.0.0.1:PORT" on stdout once the node has started, then runs until
 * it is killed or its standard input closes.
 */

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.opensearch.common.settings.Settings;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

public final class OpenSearchNode {
    /** A node whose plugins come from the class path (Node's own constructor for that is protected). */
    static final class PluginNode extends Node {
        PluginNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "vppcomp-tests-0"), plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        Settings settings = Settings.builder()
            .put("cluster.name", "vppcomp-tests")
            .put("node.name", "vppcomp-tests-0")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", args.length > 1 ? args[1] : "0")
            .put("transport.port", "0")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("cluster.routing.allocation.disk.threshold_enabled", "false")
            .put("action.auto_create_index", "true")
            .build();
        Node node = new PluginNode(settings, List.of(Netty4Plugin.class));
        node.start();
        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        System.out.println("http " + http.boundAddress().publishAddress());
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception ignored) {
                // the process is ending
            }
        }));
        while (System.in.read() >= 0) {
            // a closed stdin (the test process gone) ends the node
        }
        System.exit(0);
    }
}
