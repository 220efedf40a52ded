"""What a spec lets a person do here: the machine types it deploys on, and fine-tunes on, in this
region, resolved by the same request builders a launch uses (pure code, no AWS), and the reason
when there is none."""

from aws import jumpstart, training

PROBE_ROLE = "arn:aws:iam::000000000000:role/probe"
NO_TYPES = "JumpStart's data lists no machine type for it."


def deploy_types(spec, region):
    """(machine types the spec deploys on in region, why not when it deploys on none)."""
    def build(instance_type):
        jumpstart.deploy_request(spec, region=region, model_name="probe", endpoint_config_name="probe",
                                 endpoint_name="probe", instance_type=instance_type, role_arn=PROBE_ROLE,
                                 accept_eula=True)

    return _resolving(build, spec.get("default_inference_instance_type"),
                      spec.get("supported_inference_instance_types"))


def training_types(spec, region):
    """(machine types the spec fine-tunes on in region, why not when it fine-tunes on none)."""
    if not spec.get("training_supported"):
        return [], "JumpStart does not offer fine-tuning for this model."

    def build(instance_type):
        training.training_request(spec, region=region, job_name="probe", instance_type=instance_type,
                                  role_arn=PROBE_ROLE, hyperparameters={}, training_uri="s3://probe/data/",
                                  output_uri="s3://probe/output/", accept_eula=True)

    return _resolving(build, spec.get("default_training_instance_type"),
                      spec.get("supported_training_instance_types"))


def _resolving(build, default, supported):
    types = [t for t in dict.fromkeys([default, *(supported if isinstance(supported, list) else [])])
             if isinstance(t, str) and t]
    if not types:
        return [], NO_TYPES
    found, problem = [], None
    for instance_type in types:
        try:
            build(instance_type)
        except (jumpstart.SpecError, ValueError) as exc:
            problem = problem or str(exc)
            continue
        found.append(instance_type)
    return found, None if found else problem
