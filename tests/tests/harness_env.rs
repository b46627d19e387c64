//! The caller's `TF_*` and `CODER_*` variables must not reach Terraform. This sets some in its
//! own process, so it lives in its own test binary (one test, nothing else reads the env).

use integration_tests::{terraform_versions, TfDir};

#[test]
fn caller_tf_and_coder_variables_do_not_leak() {
    let versions = terraform_versions();
    // Edition 2021: set_var is safe; this test binary has a single test, so no thread races.
    std::env::set_var("TF_VAR_greeting", "leaked");
    std::env::set_var("CODER_WORKSPACE_TRANSITION", "stop");
    std::env::set_var("TF_CLI_ARGS_plan", "-this-flag-does-not-exist");

    let config = r#"
variable "greeting" {
  type    = string
  default = "hello"
}
resource "terraform_data" "home" {
  input = var.greeting
  provisioner "local-exec" {
    command = "printf '%s' \"$CODER_WORKSPACE_TRANSITION\" > coder-env-seen"
  }
}
output "greeting" {
  value = terraform_data.home.output
}
"#;
    for tf in versions {
        let dir = TfDir::without_provider(&tf, config);
        dir.init().assert_success();
        dir.plan().assert_success();
        dir.apply().assert_success();
        assert_eq!(dir.output_json()["greeting"]["value"], "hello");
        assert_eq!(dir.read("coder-env-seen"), "", "{tf}: CODER_* leaked");

        // What the test sets explicitly does get through.
        let out = dir
            .with_env(&[("TF_VAR_greeting", "explicit")])
            .plan_detailed_exitcode()
            .assert_code(2);
        assert!(out.stdout.contains("\"explicit\""), "{out}");
    }
}
