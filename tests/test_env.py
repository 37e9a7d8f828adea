from mim_agnostic import env


def test_environment_check_runs_every_codebase():
    results = env.run_checks()
    failures = {name: detail for name, ok, detail in results if not ok}
    assert not failures, failures
    assert [name for name, _, _ in results] == [
        'mmcv ops', 'torchvision ops', 'mmpretrain model', 'mmdet model', 'mmseg model']
    assert env.collect_versions()['mmcv'] == '2.1.0'
