"""One of every kind of object moto's apigateway and wafv2 backends hold, made through boto3
on a running local gateway, and the ids of each (tests/local/test_no_500.py draws its path
parameters and body values from them).

moto 5.2.5 holds no documentation parts or versions and no client certificates (its
apigateway/responses.py has no handler for them: petgate local answers 501), so none are made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import boto3

REGION = "eu-west-3"  # this module's own region, so nothing collides with other tests' objects
ACCOUNT = "123456789012"  # moto's account for the access key "test"
LAMBDA_URI = (f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
              f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:authorizer/invocations")
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/00000000-0000-0000-0000-000000000000"
NLB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/nlb/0123456789abcdef"
FIREHOSE_ARN = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/aws-waf-logs-petgate"


@dataclass
class Seeded:
    """What was made. A method context is (restApiId, resourceId, httpMethod, statusCode) of a
    method response that exists; everything else by botocore's member name."""

    api_ids: list[str] = field(default_factory=list)
    method_contexts: list[dict[str, str]] = field(default_factory=list)
    per_api: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # api id -> member -> ids
    ids: dict[str, list[str]] = field(default_factory=dict)  # apigateway's account-wide ids, by member
    waf: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # kind -> [{Name, Id, ARN}]
    stage_arns: list[str] = field(default_factory=list)


def clients(url: str) -> tuple[Any, Any]:
    options = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client("apigateway", **options), boto3.client("wafv2", **options)


def petstore() -> bytes:
    return resources.files("petgate.example").joinpath("petstore.json").read_bytes()


def seed(url: str) -> Seeded:
    apigateway, wafv2 = clients(url)
    seeded = Seeded()
    _seed_rest_apis(apigateway, seeded)
    _seed_account_wide(apigateway, seeded)
    _seed_waf(wafv2, seeded)
    return seeded


def _seed_rest_apis(client: Any, seeded: Seeded) -> None:
    imported = client.import_rest_api(body=petstore())["id"]
    created = client.create_rest_api(name="no500", description="every kind of object", tags={"team": "x"},
                                      endpointConfiguration={"types": ["REGIONAL"]}, binaryMediaTypes=["image/png"])["id"]
    seeded.api_ids = [imported, created]
    for api in seeded.api_ids:
        pools: dict[str, list[str]] = {}
        resources_now = {r["path"]: r["id"] for r in client.get_resources(restApiId=api)["items"]}
        root = resources_now["/"]
        proxy = client.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
        extra = client.create_resource(restApiId=api, parentId=root, pathPart="extra")["id"]
        leaf = client.create_resource(restApiId=api, parentId=extra, pathPart="{leaf}")["id"]
        client.create_model(restApiId=api, name="Extra", contentType="application/json",
                            schema=json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}))
        body_validator = client.create_request_validator(restApiId=api, name="body", validateRequestBody=True,
                                                         validateRequestParameters=False)["id"]
        params_validator = client.create_request_validator(restApiId=api, name="params", validateRequestParameters=True)["id"]
        token = client.create_authorizer(restApiId=api, name="token", type="TOKEN", authorizerUri=LAMBDA_URI,
                                         identitySource="method.request.header.Authorization",
                                         identityValidationExpression="^x$", authorizerResultTtlInSeconds=60)["id"]
        request = client.create_authorizer(restApiId=api, name="request", type="REQUEST", authorizerUri=LAMBDA_URI,
                                           identitySource="method.request.querystring.who")["id"]
        cognito = client.create_authorizer(
            restApiId=api, name="cognito", type="COGNITO_USER_POOLS",
            providerARNs=[f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_abc"],
            identitySource="method.request.header.Authorization")["id"]
        client.put_method(restApiId=api, resourceId=proxy, httpMethod="ANY", authorizationType="CUSTOM", authorizerId=token,
                          requestParameters={"method.request.path.proxy": True, "method.request.header.x": False},
                          requestModels={"application/json": "Extra"}, requestValidatorId=body_validator,
                          apiKeyRequired=True, operationName="Proxy")
        client.put_method(restApiId=api, resourceId=extra, httpMethod="POST", authorizationType="NONE")
        client.put_method(restApiId=api, resourceId=leaf, httpMethod="GET", authorizationType="AWS_IAM",
                          requestParameters={"method.request.path.leaf": True})
        for resource, method in ((proxy, "ANY"), (extra, "POST"), (leaf, "GET")):
            client.put_method_response(restApiId=api, resourceId=resource, httpMethod=method, statusCode="200",
                                       responseModels={"application/json": "Empty"},
                                       responseParameters={"method.response.header.x-id": False})
        client.put_integration(restApiId=api, resourceId=proxy, httpMethod="ANY", type="HTTP_PROXY",
                               integrationHttpMethod="ANY", uri="http://127.0.0.1:9/{proxy}",
                               requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
        client.put_integration(restApiId=api, resourceId=extra, httpMethod="POST", type="MOCK",
                               requestTemplates={"application/json": '{"statusCode": 200}'})
        client.put_integration(restApiId=api, resourceId=leaf, httpMethod="GET", type="AWS_PROXY",
                               integrationHttpMethod="POST", uri=LAMBDA_URI)
        for resource, method in ((proxy, "ANY"), (extra, "POST"), (leaf, "GET")):
            client.put_integration_response(restApiId=api, resourceId=resource, httpMethod=method, statusCode="200",
                                            selectionPattern="", responseTemplates={"application/json": "{}"},
                                            responseParameters={"method.response.header.x-id": "'1'"})
            seeded.method_contexts.append({"restApiId": api, "resourceId": resource, "httpMethod": method, "statusCode": "200"})
        if api == imported:  # the PetStore's own methods
            for path, method in (("/pets", "GET"), ("/pets", "POST"), ("/pets/{petId}", "GET")):
                seeded.method_contexts.append({"restApiId": api, "resourceId": resources_now[path], "httpMethod": method,
                                               "statusCode": "200"})
        client.put_gateway_response(restApiId=api, responseType="ACCESS_DENIED", statusCode="403",
                                    responseTemplates={"application/json": '{"message": "no"}'})
        client.put_gateway_response(restApiId=api, responseType="DEFAULT_4XX", responseParameters={
            "gatewayresponse.header.x-why": "'because'"})
        first = client.create_deployment(restApiId=api, stageName="test", description="first")["id"]
        second = client.create_deployment(restApiId=api, description="second")["id"]
        client.create_stage(restApiId=api, stageName="prod", deploymentId=second, variables={"v": "1"},
                            tracingEnabled=True, tags={"stage": "prod"})
        stage_arns = [f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/{name}" for name in ("test", "prod")]
        client.tag_resource(resourceArn=stage_arns[0], tags={"stage": "test"})
        seeded.stage_arns += stage_arns
        models = [m["name"] for m in client.get_models(restApiId=api)["items"]]
        pools.update(
            resourceId=[root, proxy, extra, leaf, *resources_now.values()],
            parentId=[root, extra, proxy], modelName=models, requestValidatorId=[body_validator, params_validator],
            authorizerId=[token, request, cognito], deploymentId=[first, second], stageName=["test", "prod"],
            resourceArn=[*stage_arns, f"arn:aws:apigateway:{REGION}::/restapis/{api}"],
        )
        seeded.per_api[api] = pools


def _seed_account_wide(client: Any, seeded: Seeded) -> None:
    first, second = seeded.api_ids
    keys = [client.create_api_key(name="key1", enabled=True, tags={"k": "v"})["id"],
            client.create_api_key(name="key2", value="a" * 30, enabled=False, stageKeys=[
                {"restApiId": first, "stageName": "test"}])["id"]]
    plans = [client.create_usage_plan(name="plan1", apiStages=[{"apiId": first, "stage": "test"}],
                                      throttle={"burstLimit": 10, "rateLimit": 5.0},
                                      quota={"limit": 100, "period": "DAY"})["id"],
             client.create_usage_plan(name="plan2")["id"]]
    client.create_usage_plan_key(usagePlanId=plans[0], keyId=keys[0], keyType="API_KEY")
    domains = ["api.example.com", "edge.example.com"]
    client.create_domain_name(domainName=domains[0], regionalCertificateArn=CERTIFICATE_ARN,
                              endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2")
    client.create_domain_name(domainName=domains[1], certificateArn=CERTIFICATE_ARN)
    client.create_base_path_mapping(domainName=domains[0], restApiId=first, basePath="v1", stage="test")
    client.create_base_path_mapping(domainName=domains[0], restApiId=second, stage="prod")
    links = [client.create_vpc_link(name="link", targetArns=[NLB_ARN], description="nlb")["id"]]
    seeded.ids = {"apiKey": keys, "keyId": keys, "usagePlanId": plans, "domainName": domains,
                  "basePath": ["v1", "(none)"], "vpcLinkId": links}


def _seed_waf(client: Any, seeded: Seeded) -> None:
    visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}
    scope = {"Scope": "REGIONAL"}
    v4 = client.create_ip_set(Name="v4", IPAddressVersion="IPV4", Addresses=["192.0.2.0/24"], Tags=[{"Key": "k", "Value": "v"}],
                              **scope)["Summary"]
    v6 = client.create_ip_set(Name="v6", IPAddressVersion="IPV6", Addresses=["2001:db8::/32"], **scope)["Summary"]
    regex = client.create_regex_pattern_set(Name="re", RegularExpressionList=[{"RegexString": "^/pets"}], **scope)["Summary"]
    group = client.create_rule_group(Name="group", Capacity=50, VisibilityConfig=visibility, Rules=[{
        "Name": "block-v6", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": visibility,
        "Statement": {"IPSetReferenceStatement": {"ARN": v6["ARN"]}}}], **scope)["Summary"]
    acl = client.create_web_acl(Name="acl", DefaultAction={"Allow": {}}, VisibilityConfig=visibility, Rules=[
        {"Name": "block-v4", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": visibility,
         "Statement": {"IPSetReferenceStatement": {"ARN": v4["ARN"]}}},
        {"Name": "regex", "Priority": 1, "Action": {"Count": {}}, "VisibilityConfig": visibility,
         "Statement": {"RegexPatternSetReferenceStatement": {"ARN": regex["ARN"], "FieldToMatch": {"UriPath": {}},
                                                             "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}},
        {"Name": "group", "Priority": 2, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility,
         "Statement": {"RuleGroupReferenceStatement": {"ARN": group["ARN"]}}},
    ], **scope)["Summary"]
    spare = client.create_web_acl(Name="spare", DefaultAction={"Block": {}}, VisibilityConfig=visibility, **scope)["Summary"]
    client.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=seeded.stage_arns[0])
    client.put_logging_configuration(LoggingConfiguration={"ResourceArn": acl["ARN"], "LogDestinationConfigs": [FIREHOSE_ARN]})

    def kept(summary: dict[str, Any]) -> dict[str, str]:
        return {"Name": summary["Name"], "Id": summary["Id"], "ARN": summary["ARN"]}

    seeded.waf = {"IPSet": [kept(v4), kept(v6)], "RegexPatternSet": [kept(regex)], "RuleGroup": [kept(group)],
                  "WebACL": [kept(acl), kept(spare)]}
