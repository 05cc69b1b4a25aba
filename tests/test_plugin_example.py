# The README's pytest example, word for word (tests/test_readme.py checks they are the same).
import requests


def test_my_policy_keeps_a_client_out(petgate_gateway):
    apigateway = petgate_gateway.client("apigateway")
    api = apigateway.create_rest_api(name="mine")
    root = apigateway.get_resources(restApiId=api["id"])["items"][0]["id"]
    apigateway.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK",
                               requestTemplates={"application/json": '{"statusCode": 200}'})
    apigateway.put_method_response(restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200")
    apigateway.put_integration_response(restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200")
    apigateway.update_rest_api(restApiId=api["id"], patchOperations=[{
        "op": "replace", "path": "/policy", "value": (
            '{"Version": "2012-10-17", "Statement": ['
            '{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},'
            '{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",'
            ' "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}}]}')}])
    apigateway.create_deployment(restApiId=api["id"], stageName="test")

    url = petgate_gateway.invoke_url(api["id"], "test") + "/"
    assert requests.get(url).status_code == 403  # this test runs from 127.0.0.1
