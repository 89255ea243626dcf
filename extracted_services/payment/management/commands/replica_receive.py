from extracted_services.common.receive import ReplicaReceiveCommand as Command

__all__ = ["Command"]
