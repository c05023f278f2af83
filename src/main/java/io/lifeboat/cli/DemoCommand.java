package io.lifeboat.cli;
import picocli.CommandLine.Command;
@Command(name = "demo", description = "demo")
final class DemoCommand implements Runnable { public void run() {} }
