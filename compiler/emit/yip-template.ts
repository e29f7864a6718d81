// yip renders some cloud-config strings as Go templates (text/template with sprig's functions,
// `.Values` = the machine's sysinfo) before using them; a derivc value that lands there must
// come out literally. Which strings, from yip's source (github.com/mudler/yip):
//   - files[].content, commands[], ensure_entities/delete_entities[].entity: since 0.7.0
//     (pkg/plugins/files.go, commands.go, entities.go → templateSysData);
//   - if: since 0.8.5 (pkg/plugins/if.go);
//   - environment values: since 0.9.17, Oct 2021 (pkg/plugins/environment.go, commit cddc48c;
//     cOS toolkit v0.7.0 still shipped yip 0.9.15, v0.7.4 shipped 0.9.21);
//   - hostname: since 0.9.17, with {{.UUID}}, {{.MachineID}}, {{.Random}} (pkg/plugins/hostname.go);
//   - Kairos-era package commands (packages.go, package_pins.go), which derivc never writes.
// Nothing else is rendered, and never the whole file. Through v1.24 templateSysData keeps the
// input as written when the template fails to parse or run; hostname then fails the step.

/**
 * `value` as a Go template that renders to exactly `value`: every `{{` becomes the action
 * `{{ "{{" }}`, which prints `{{` and needs no function. Nothing else in text/template is
 * special outside an action (a lone `}}` is text), and the action's own delimiters carry no
 * `-` trim markers, so the text around it keeps its spaces.
 */
export function yipTemplateLiteral(value: string): string {
  return value.replace(/\{\{/g, '{{ "{{" }}');
}
