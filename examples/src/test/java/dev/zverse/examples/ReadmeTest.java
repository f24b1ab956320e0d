package dev.zverse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.zverse.actors.StoreSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the top-level README.md honest: its Java snippets are compiled code, its imports are the
 * ones they need, the dependencies it shows have the versions built, its configuration reference
 * has a row for every key of every module's reference.conf with its default, and its HOCON examples
 * are settings a store accepts.
 */
class ReadmeTest {
  private static final Path ROOT = repositoryRoot();
  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern HOCON_BLOCK = Pattern.compile("```hocon\\n(.*?)```", Pattern.DOTALL);

  private static Path repositoryRoot() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException(
          "no repository root (a directory with mvnw) above " + System.getProperty("user.dir"));
    }
    return dir;
  }

  private static String readme() throws IOException {
    return Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
  }

  private static List<String> blocks(Pattern pattern, String text) {
    List<String> blocks = new ArrayList<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  /** Lines without their indentation, blank lines left out. */
  private static List<String> normalized(String text) {
    return text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  @Test
  void everyJavaSnippetIsCompiledExampleCode() throws IOException {
    List<String> snippets = blocks(JAVA_BLOCK, readme());
    assertTrue(snippets.size() >= 10, "the README has only " + snippets.size() + " Java snippets");
    List<List<String>> sources = new ArrayList<>();
    try (Stream<Path> files = Files.walk(ROOT.resolve("examples/src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        sources.add(normalized(Files.readString(f, StandardCharsets.UTF_8)));
      }
    }
    for (String snippet : snippets) {
      List<String> lines = normalized(snippet);
      if (sources.stream().noneMatch(source -> Collections.indexOfSubList(source, lines) >= 0)) {
        fail(
            "this README snippet is not in examples/src/main/java (copy it from ReadmeSnippets.java):\n"
                + snippet);
      }
    }
  }

  @Test
  void everyConfigurationKeyIsDocumentedWithItsDefault() throws IOException {
    String readme = readme();
    List<Path> references = new ArrayList<>();
    try (Stream<Path> modules = Files.list(ROOT)) {
      for (Path module : modules.toList()) {
        Path reference = module.resolve("src/main/resources/reference.conf");
        if (Files.exists(reference)) {
          references.add(reference);
        }
      }
    }
    assertFalse(references.isEmpty(), "no module has a reference.conf");
    int keys = 0;
    for (Path reference : references) {
      Config config = ConfigFactory.parseFile(reference.toFile()).resolve();
      for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
        String key = e.getKey();
        // The configuration reference's row for the key; prose elsewhere may name it too.
        String line =
            readme.lines().filter(l -> l.startsWith("| `" + key + "` |")).findFirst().orElse(null);
        if (line == null) {
          fail(
              "the README's configuration reference has no row for `"
                  + key
                  + "` of "
                  + ROOT.relativize(reference));
        }
        String value = String.valueOf(e.getValue().unwrapped());
        String shown =
            e.getValue().valueType() == ConfigValueType.STRING && value.isEmpty()
                ? "`\"\"`"
                : "`" + value + "`";
        assertTrue(
            line.contains(shown),
            "the README's line for `"
                + key
                + "` does not show its default "
                + shown
                + ":\n"
                + line);
        keys++;
      }
    }
    assertTrue(keys >= 13, "only " + keys + " keys checked");
  }

  @Test
  void everyHoconExampleIsAcceptedByTheStoreSettings() throws IOException {
    List<String> examples = blocks(HOCON_BLOCK, readme());
    assertFalse(examples.isEmpty(), "the README has no HOCON example");
    Config defaults = ConfigFactory.defaultReference().getConfig("zverse.store");
    for (String example : examples) {
      Config config = ConfigFactory.parseString(example);
      int stores = 0;
      if (config.hasPath("zverse.store")) {
        StoreSettings.create(config.getConfig("zverse.store").withFallback(defaults));
        stores++;
      }
      if (config.hasPath("zverse.stores")) {
        for (String name : config.getObject("zverse.stores").keySet()) {
          StoreSettings.create(config.getConfig("zverse.stores." + name).withFallback(defaults));
          stores++;
        }
      }
      if (stores == 0 && config.hasPath("pekko.cluster")) {
        // The cluster section's downing example: it must name a downing provider, which a
        // ClusterStore requires (the cluster module's own tests open stores with it).
        assertFalse(
            config.getString("pekko.cluster.downing-provider-class").isBlank(),
            "this cluster HOCON example names no downing provider:\n" + example);
        continue;
      }
      assertTrue(stores > 0, "this HOCON example configures no store:\n" + example);
    }
  }

  @Test
  void theFirstCommandRunsTheDemo() throws IOException {
    String readme = readme();
    String command = "./mvnw -B -q -pl examples -am -DskipTests package exec:exec";
    assertTrue(readme.contains("    " + command + "\n"), "the README does not show " + command);
    assertTrue(
        readme.indexOf(command) < readme.indexOf("./mvnw -B verify"),
        "the demo's command is not the first one");
    String pom = Files.readString(ROOT.resolve("examples/pom.xml"), StandardCharsets.UTF_8);
    assertTrue(
        pom.contains("<zverse.main>" + Demo.class.getName() + "</zverse.main>"),
        "examples/pom.xml does not run the demo");
    assertEquals(
        1,
        Collections.frequency(List.of(readme.split("\n")), "    ./mvnw -B verify"),
        "the test command is not shown once");
  }

  @Test
  void theImportsBlockIsWhatTheSnippetsUse() throws IOException {
    List<List<String>> blocks =
        blocks(JAVA_BLOCK, readme()).stream()
            .map(ReadmeTest::normalized)
            .filter(lines -> lines.stream().allMatch(l -> l.startsWith("import ")))
            .toList();
    assertEquals(1, blocks.size(), "the README shows one block of imports, not " + blocks.size());
    Path snippets = ROOT.resolve("examples/src/main/java/dev/zverse/examples/ReadmeSnippets.java");
    List<String> source = normalized(Files.readString(snippets, StandardCharsets.UTF_8));
    List<String> imports = source.stream().filter(l -> l.startsWith("import ")).toList();
    assertEquals(imports, blocks.get(0), "the README's imports are not ReadmeSnippets.java's");
    String code = String.join("\n", source.stream().filter(l -> !l.startsWith("import ")).toList());
    for (String line : imports) {
      String simpleName = line.substring(line.lastIndexOf('.') + 1, line.length() - 1);
      assertTrue(
          Pattern.compile("\\b" + simpleName + "\\b").matcher(code).find(),
          "ReadmeSnippets.java does not use " + line);
    }
  }

  @Test
  void theDependenciesShowTheVersionsBuilt() throws IOException {
    String pom = Files.readString(ROOT.resolve("pom.xml"), StandardCharsets.UTF_8);
    Matcher project =
        Pattern.compile("<artifactId>zverse-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(pom);
    Matcher logback = Pattern.compile("<logback.version>([^<]+)</logback.version>").matcher(pom);
    assertTrue(project.find() && logback.find(), "pom.xml has no project or Logback version");
    Map<String, String> built =
        Map.of(
            "dev.zverse:zverse-actors", project.group(1),
            "dev.zverse:zverse-streams", project.group(1),
            "ch.qos.logback:logback-classic", logback.group(1));
    Matcher dependency =
        Pattern.compile(
                "<groupId>([^<]+)</groupId>\\s*<artifactId>([^<]+)</artifactId>"
                    + "\\s*<version>([^<]+)</version>")
            .matcher(readme());
    int shown = 0;
    while (dependency.find()) {
      String artifact = dependency.group(1) + ":" + dependency.group(2);
      assertEquals(built.get(artifact), dependency.group(3), "the README's version of " + artifact);
      shown++;
    }
    assertEquals(built.size(), shown, "the README shows each dependency once");
    String install = "    ./mvnw -B -q install -DskipTests\n";
    assertTrue(readme().contains(install), "the README does not show how to install");
  }
}
